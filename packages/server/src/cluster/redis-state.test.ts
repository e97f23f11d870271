import { afterEach, beforeAll, beforeEach, expect, test } from 'vitest'
import { testRedisPrefix } from '../test-support/cluster.js'
import { until } from '../test-support/job-queues.js'
import { type ServiceProxy, serviceProxy, serviceSkipReason, serviceUrls } from '../test-support/services.js'
import { RedisState } from './redis-state.js'

const log = { info() {}, warn() {} }
let skipReason = ''
let proxy: ServiceProxy
let prefix = ''
const opened: RedisState[] = []

const open = async (url: string) => {
  const state = await RedisState.open({ url, prefix, log })
  opened.push(state)
  return state
}

/** Sends `message` until `heard` has it: a message published before the subscription took is lost by design. */
async function heardFrom(sender: RedisState, heard: string[], message: string) {
  await until(async () => {
    if (sender.isUp) await sender.publish('schema', message).catch(() => {})
    return heard.includes(message)
  }, 5_000)
}

beforeAll(async () => {
  skipReason = await serviceSkipReason('redis')
})

beforeEach(async (context) => {
  if (skipReason) context.skip(skipReason)
  proxy = await serviceProxy('redis')
  prefix = testRedisPrefix()
})

afterEach(async () => {
  for (const state of opened.splice(0)) await state.close()
  await proxy?.close()
})

test('a node started while Redis is away hears the other nodes once it answers', async () => {
  await proxy.cut()
  const node = await open(proxy.url)
  const heard: string[] = []
  node.subscribe('schema', (message) => heard.push(message))
  // Long enough for the first connection attempts to be refused.
  await new Promise((resolve) => setTimeout(resolve, 300))
  expect(node.isUp).toBe(false)
  await proxy.restore()
  await until(() => node.isUp, 5_000)
  await heardFrom(await open(serviceUrls.redis), heard, 'after the start')
})

test('a node hears the other nodes again after Redis has been away', async () => {
  const node = await open(proxy.url)
  const other = await open(serviceUrls.redis)
  const heard: string[] = []
  node.subscribe('schema', (message) => heard.push(message))
  await heardFrom(other, heard, 'before')
  await proxy.cut()
  await until(() => !node.isUp, 5_000)
  await proxy.restore()
  await heardFrom(other, heard, 'after')
})
