import { request } from 'node:http'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openStream, type SseStream, setSubscriptions } from '../test-support/realtime.js'
import { account, listen, setupRealtimeBlog, write } from '../test-support/realtime-blog.js'

const POSTS = '/api/collections/posts/records'
const DAY_MS = 24 * 60 * 60 * 1000

describe.each(testDialects)('realtime streams over time on %s', (kind) => {
  let t: TestApp
  let base: string

  async function start(overrides = {}) {
    t = await createTestApp(kind, overrides)
    base = await listen(t)
  }

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(async () => t?.close())

  async function subscribed(topics: string[], token?: string, headers = {}): Promise<SseStream> {
    const stream = await openStream(base, headers)
    const response = await setSubscriptions(base, { clientId: stream.clientId, subscriptions: topics }, token)
    expect(response.status, JSON.stringify(response.body)).toBe(204)
    return stream
  }

  const titles = (stream: SseStream) => stream.events().map((event) => event.record.title)
  const publicPost = (title: string, owner: string, token: string) =>
    write(t, 'POST', POSTS, token, { title, owner, public: true })

  test('a reconnect with Last-Event-ID gets exactly the events it missed, then live ones', async () => {
    await start()
    const { alice } = await setupRealtimeBlog(t)
    const quiet = await openStream(base)
    quiet.close()
    const first = await subscribed(['posts/*'])
    await publicPost('one', alice.id, alice.token)
    await first.until(() => titles(first).length === 1)
    const lastSeen = first.events()[0]!.id
    first.close()
    await first.ended
    await publicPost('two', alice.id, alice.token)
    await publicPost('three', alice.id, alice.token)

    const resumed = await subscribed(['posts/*'], undefined, { 'last-event-id': lastSeen })
    await resumed.until(() => titles(resumed).length === 2)
    await publicPost('four', alice.id, alice.token)
    await resumed.until(() => titles(resumed).length === 3)
    expect(titles(resumed)).toEqual(['two', 'three', 'four'])
    const ids = resumed.events().map((event) => Number(event.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
    expect(ids[0]).toBeGreaterThan(Number(lastSeen))

    // A client that saw no event resumes from its own id, which names where it began.
    const fromClientId = await subscribed(['posts/*'], undefined, { 'last-event-id': quiet.clientId })
    await fromClientId.until(() => titles(fromClientId).length === 4)
    expect(titles(fromClientId)).toEqual(['one', 'two', 'three', 'four'])
    for (const stream of [resumed, fromClientId]) stream.close()
  })

  test('a Last-Event-ID older than the kept events gets PB_RESET, then live events', async () => {
    await start()
    const { alice } = await setupRealtimeBlog(t)
    await publicPost('before', alice.id, alice.token)
    // Everything past the retention is pruned: the events after seq 1 are gone.
    expect(await t.app.plinth.events.prune(Date.now() + 30 * DAY_MS)).toBeGreaterThan(0)
    const stream = await subscribed(['posts/*'], undefined, { 'last-event-id': '1' })
    await stream.until((messages) => messages.some((message) => message.event === 'PB_RESET'))
    await publicPost('after', alice.id, alice.token)
    await stream.until(() => titles(stream).length === 1)
    expect(titles(stream)).toEqual(['after'])
    const reset = stream.messages.find((message) => message.event === 'PB_RESET')!
    expect(Number(reset.id)).toBeGreaterThan(1)
    stream.close()
  })

  const endings = [
    {
      name: 'signing out',
      async end(alice: { id: string; token: string }) {
        const response = await t.request({
          method: 'POST',
          url: '/api/collections/users/auth-logout',
          auth: alice.token,
        })
        expect(response.statusCode, response.body).toBe(204)
      },
    },
    {
      name: 'a new password',
      async end(alice: { id: string; token: string }) {
        await write(t, 'PATCH', `/api/collections/users/records/${alice.id}`, alice.token, {
          password: 'another password 2',
          passwordConfirm: 'another password 2',
        })
      },
    },
  ]

  test.each(endings)('$name ends the session’s streams within a second', async ({ end }) => {
    await start()
    const { alice, bob } = await setupRealtimeBlog(t)
    const stream = await subscribed(['posts/*'], alice.token)
    const bystander = await subscribed(['posts/*'], bob.token)
    await end(alice)
    const ended = Date.now()
    await stream.until((messages) => messages.some((message) => message.event === 'PB_END'), 1000)
    expect(Date.now() - ended).toBeLessThan(1000)
    expect(JSON.parse(stream.messages.at(-1)!.data)).toEqual({ reason: 'revoked' })
    await stream.ended
    await publicPost('later', bob.id, bob.token)
    await bystander.until(() => titles(bystander).length === 1)
    expect(titles(stream)).toEqual([])
    bystander.close()
  })

  test('a token that expires ends the streams it opened', async () => {
    await start({ tokenTtl: 2 })
    await setupRealtimeBlog(t)
    const carol = await account(t, 'carol@example.com')
    const stream = await subscribed(['posts/*'], carol.token)
    const exp = JSON.parse(Buffer.from(carol.token.split('.')[1]!, 'base64url').toString()).exp * 1000
    await stream.until((messages) => messages.some((message) => message.event === 'PB_END'), 4000)
    expect(JSON.parse(stream.messages.at(-1)!.data)).toEqual({ reason: 'expired' })
    expect(Date.now()).toBeGreaterThanOrEqual(exp)
    // The client may subscribe again only with a valid token; the expired one is refused.
    const again = await openStream(base)
    const refused = await setSubscriptions(
      base,
      { clientId: again.clientId, subscriptions: ['posts/*'] },
      carol.token,
    )
    expect(refused.status).toBe(401)
    again.close()
  })

  test('heartbeats keep an idle stream talking', async () => {
    const realtime = {
      heartbeatMs: 50,
      maxSubscriptions: 10,
      maxConnectionsPerCaller: 10,
      maxBufferBytes: 1 << 20,
    }
    await start({ realtime })
    let beats = 0
    await new Promise<void>((resolve, reject) => {
      const req = request(`${base}/api/realtime`, (res) => {
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          beats += chunk.split(':\n\n').length - 1
          if (beats < 3) return
          req.destroy()
          resolve()
        })
      })
      req.on('error', reject)
      req.end()
    })
    expect(beats).toBeGreaterThanOrEqual(3)
  })
})
