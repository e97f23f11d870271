import { describe, expect, test } from 'vitest'
import { histogramQuantile, increase, parseSamples, pointBetween } from './prometheus'

const exposition = (requests: number, errors: number, le: [string, number][], dbSeconds: number) => `
# HELP plinth_http_requests_total Answers sent.
# TYPE plinth_http_requests_total counter
plinth_http_requests_total{node_id="n1",method="GET",route="/api/health",status="200"} ${requests - errors}
plinth_http_requests_total{node_id="n1",method="GET",route="/api/x",status="503"} ${errors}
# TYPE plinth_http_request_duration_seconds histogram
${le.map(([bound, count]) => `plinth_http_request_duration_seconds_bucket{le="${bound}",node_id="n1",method="GET",route="/api/health"} ${count}`).join('\n')}
plinth_http_request_duration_seconds_count{node_id="n1",method="GET",route="/api/health"} ${le.at(-1)?.[1]}
plinth_db_query_duration_seconds_sum{node_id="n1",operation="select"} ${dbSeconds}
plinth_realtime_connections{node_id="n1"} 3
`

describe('parseSamples', () => {
  test('reads names, escaped labels and special values', () => {
    const samples = parseSamples(
      '# HELP x y\nx{a="q\\"uote",le="+Inf"} +Inf\ny 1.5e3\n\nnot a sample line at all',
    )
    expect(samples).toEqual([
      { name: 'x', labels: { a: 'q"uote', le: '+Inf' }, value: Number.POSITIVE_INFINITY },
      { name: 'y', labels: {}, value: 1500 },
    ])
  })
})

describe('histogramQuantile', () => {
  const cumulative = new Map([
    [0.01, 50],
    [0.1, 90],
    [1, 100],
    [Number.POSITIVE_INFINITY, 100],
  ])
  test.each([
    { q: 0.5, expected: 0.01 },
    { q: 0.7, expected: 0.01 + 0.09 * 0.5 },
    { q: 0.99, expected: 0.1 + 0.9 * 0.9 },
  ])('interpolates the $q quantile within its bucket', ({ q, expected }) => {
    expect(histogramQuantile(q, cumulative)).toBeCloseTo(expected, 10)
  })
  test('answers null when nothing was observed', () => {
    expect(histogramQuantile(0.5, new Map([[Number.POSITIVE_INFINITY, 0]]))).toBeNull()
  })
  test('answers the highest finite bound for a quantile in the +Inf bucket', () => {
    expect(
      histogramQuantile(
        0.99,
        new Map([
          [1, 1],
          [Number.POSITIVE_INFINITY, 10],
        ]),
      ),
    ).toBe(1)
  })
})

describe('pointBetween', () => {
  test('computes rates, quantiles of the interval and gauges', () => {
    const before = {
      at: 0,
      samples: parseSamples(
        exposition(
          100,
          2,
          [
            ['0.01', 80],
            ['0.1', 95],
            ['+Inf', 100],
          ],
          1,
        ),
      ),
    }
    const after = {
      at: 5000,
      samples: parseSamples(
        exposition(
          150,
          7,
          [
            ['0.01', 100],
            ['0.1', 145],
            ['+Inf', 150],
          ],
          1.5,
        ),
      ),
    }
    const point = pointBetween(before, after)
    expect(point.requestsPerSecond).toBe(10)
    expect(point.errorsPerSecond).toBe(1)
    // Of the 50 requests of the interval, 20 took ≤ 10 ms and 30 took 10 to 100 ms.
    expect(point.p50Ms).toBeCloseTo(10 + 90 * (5 / 30), 6)
    expect(point.dbMsPerSecond).toBeCloseTo(100, 6)
    expect(point.realtimeConnections).toBe(3)
  })
  test('treats a counter that went down as reset', () => {
    expect(increase(500, 20)).toBe(20)
  })
})
