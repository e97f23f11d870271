import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { describe, expect, test } from 'vitest'
import { Metrics } from './metrics.js'

const metrics = () => new Metrics({ nodeId: 'node-a', cacheMs: 0 })

async function parsed(m: Metrics) {
  return parsePrometheusTextFormat(await m.exposition()) as {
    name: string
    type: string
    metrics: {
      labels?: Record<string, string>
      value?: string
      buckets?: Record<string, string>
      count?: string
      sum?: string
    }[]
  }[]
}

describe('counters', () => {
  test('add up per label set, each series shown once with the node id', async () => {
    const m = metrics()
    const requests = m.counter('test_requests_total', 'Requests.', ['method', 'status'])
    requests.inc({ method: 'GET', status: '200' })
    requests.inc({ method: 'GET', status: '200' }, 2)
    requests.inc({ method: 'POST', status: '201' })
    requests.inc({ status: '500' })
    const family = (await parsed(m)).find((f) => f.name === 'test_requests_total')!
    expect(family.type).toBe('COUNTER')
    expect(family.metrics).toEqual(
      expect.arrayContaining([
        { labels: { method: 'GET', status: '200', node_id: 'node-a' }, value: '3' },
        { labels: { method: 'POST', status: '201', node_id: 'node-a' }, value: '1' },
        { labels: { status: '500', node_id: 'node-a' }, value: '1' },
      ]),
    )
    expect(family.metrics).toHaveLength(3)
  })

  test('refuse a label they were not given and a step down', () => {
    const requests = metrics().counter('test_refusals_total', 'Refusals.', ['method'])
    expect(() => requests.inc({ route: '/' } as never)).toThrow(/not a label/)
    expect(() => requests.inc({ method: 'GET' }, -1)).toThrow(/only goes up/)
  })
})

describe('histograms', () => {
  test('count each observation in its bucket and in every bucket above, with sum and count', async () => {
    const m = metrics()
    const latency = m.histogram('test_latency_seconds', 'Latency.', ['route'], [0.1, 0.01, 1])
    for (const value of [0.005, 0.01, 0.5, 3]) latency.observe({ route: '/a' }, value)
    latency.observe({ route: '/b' }, 0.05)
    const text = await m.exposition()
    expect((await parsed(m)).find((f) => f.name === 'test_latency_seconds')?.type).toBe('HISTOGRAM')
    const lines = text.split('\n').filter((line) => line.startsWith('test_latency_seconds'))
    expect(lines).toEqual([
      'test_latency_seconds_bucket{le="0.01",node_id="node-a",route="/a"} 2',
      'test_latency_seconds_bucket{le="0.1",node_id="node-a",route="/a"} 2',
      'test_latency_seconds_bucket{le="1",node_id="node-a",route="/a"} 3',
      'test_latency_seconds_bucket{le="+Inf",node_id="node-a",route="/a"} 4',
      'test_latency_seconds_sum{node_id="node-a",route="/a"} 3.515',
      'test_latency_seconds_count{node_id="node-a",route="/a"} 4',
      'test_latency_seconds_bucket{le="0.01",node_id="node-a",route="/b"} 0',
      'test_latency_seconds_bucket{le="0.1",node_id="node-a",route="/b"} 1',
      'test_latency_seconds_bucket{le="1",node_id="node-a",route="/b"} 1',
      'test_latency_seconds_bucket{le="+Inf",node_id="node-a",route="/b"} 1',
      'test_latency_seconds_sum{node_id="node-a",route="/b"} 0.05',
      'test_latency_seconds_count{node_id="node-a",route="/b"} 1',
    ])
  })

  test('refuse a value that is not a number', () => {
    const latency = metrics().histogram('test_nan_seconds', 'NaN.', [], [1])
    expect(() => latency.observe({}, Number.NaN)).toThrow()
  })
})
