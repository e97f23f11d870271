import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { openStream, type SseStream, setSubscriptions } from '../test-support/realtime.js'
import { listen, setupRealtimeBlog, write } from '../test-support/realtime-blog.js'

const options = (value: unknown) => `posts/*?options=${encodeURIComponent(JSON.stringify(value))}`

/** Bodies of POST /api/realtime that must be refused; `clientId` is filled in with a real one. */
const badBodies: { name: string; body: (clientId: string) => unknown; status: number; code: string }[] = [
  {
    name: 'malformed JSON',
    body: (id) => `{"clientId":"${id}","subscriptions":[`,
    status: 400,
    code: 'malformed_json',
  },
  { name: 'a body that is not an object', body: () => '[]', status: 400, code: 'validation_failed' },
  {
    name: 'clientId of the wrong type',
    body: () => ({ clientId: 42, subscriptions: [] }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'subscriptions as a string',
    body: (id) => ({ clientId: id, subscriptions: 'posts/*' }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'a subscription that is a number',
    body: (id) => ({ clientId: id, subscriptions: [1] }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'an unknown field',
    body: (id) => ({ clientId: id, subscriptions: [], admin: true }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: '__proto__ as a field',
    body: (id) => `{"clientId":"${id}","subscriptions":[],"__proto__":{"x":1}}`,
    status: 400,
    code: 'malformed_json',
  },
  {
    name: 'a body over the limit',
    body: (id) => ({ clientId: id, subscriptions: ['x'.repeat(2 * 1024 * 1024)] }),
    status: 413,
    code: 'body_too_large',
  },
  {
    name: 'too many subscriptions',
    body: (id) => ({ clientId: id, subscriptions: Array.from({ length: 6 }, (_, n) => `posts/p${n}`) }),
    status: 400,
    code: 'invalid_subscription',
  },
  {
    name: 'a subscription too long',
    body: (id) => ({ clientId: id, subscriptions: [`posts/${'a'.repeat(2500)}`] }),
    status: 400,
    code: 'validation_failed',
  },
  {
    name: 'a collection that does not exist',
    body: (id) => ({ clientId: id, subscriptions: ['nope/*'] }),
    status: 400,
    code: 'invalid_subscription',
  },
  {
    name: 'a topic without a record part',
    body: (id) => ({ clientId: id, subscriptions: ['posts'] }),
    status: 400,
    code: 'invalid_subscription',
  },
  ...['__proto__', 'constructor', 'prototype'].flatMap((name) => [
    {
      name: `${name} as the collection`,
      body: (id: string) => ({ clientId: id, subscriptions: [`${name}/*`] }),
      status: 400,
      code: 'invalid_subscription',
    },
    {
      name: `${name} as the record id`,
      body: (id: string) => ({ clientId: id, subscriptions: [`posts/${name}`] }),
      status: 400,
      code: 'invalid_subscription',
    },
    {
      name: `${name} as an option key`,
      body: (id: string) => ({
        clientId: id,
        subscriptions: [`posts/*?options=${encodeURIComponent(`{"query":{"${name}":"x"}}`)}`],
      }),
      status: 400,
      code: 'invalid_subscription',
    },
  ]),
  {
    name: 'an injection string as the record id',
    body: (id) => ({ clientId: id, subscriptions: ["posts/1' OR '1'='1"] }),
    status: 400,
    code: 'invalid_subscription',
  },
  {
    name: 'a line break in a topic',
    body: (id) => ({ clientId: id, subscriptions: ['posts/*\nevent: PB_CONNECT'] }),
    status: 400,
    code: 'invalid_subscription',
  },
  {
    name: 'options that are not JSON',
    body: (id) => ({ clientId: id, subscriptions: ['posts/*?options=%7Bnope'] }),
    status: 400,
    code: 'invalid_subscription',
  },
  {
    name: 'an unknown option',
    body: (id) => ({ clientId: id, subscriptions: [options({ admin: true })] }),
    status: 400,
    code: 'invalid_subscription',
  },
  {
    name: 'a query value that is not a string',
    body: (id) => ({ clientId: id, subscriptions: [options({ query: { filter: 1 } })] }),
    status: 400,
    code: 'invalid_subscription',
  },
  {
    name: 'a filter on an unknown field',
    body: (id) => ({ clientId: id, subscriptions: [options({ query: { filter: 'nope = 1' } })] }),
    status: 400,
    code: 'invalid_filter',
  },
  {
    name: 'a filter on a hidden field',
    body: (id) => ({ clientId: id, subscriptions: [options({ query: { filter: 'secret = "x"' } })] }),
    status: 400,
    code: 'invalid_filter',
  },
  {
    name: 'a filter with an injection string',
    body: (id) => ({
      clientId: id,
      subscriptions: [options({ query: { filter: "title = 'x' OR 1=1 --" } })],
    }),
    status: 400,
    code: 'invalid_filter',
  },
  {
    name: 'an expand of a field that is no relation',
    body: (id) => ({ clientId: id, subscriptions: [options({ query: { expand: 'title' } })] }),
    status: 400,
    code: 'invalid_query',
  },
  {
    name: 'fields naming a hidden field',
    body: (id) => ({ clientId: id, subscriptions: [options({ query: { fields: 'secret' } })] }),
    status: 400,
    code: 'invalid_query',
  },
  {
    name: 'an unknown client id',
    body: () => ({ clientId: 'no-such-client', subscriptions: ['posts/*'] }),
    status: 404,
    code: 'not_found',
  },
]

describe.each(testDialects)('POST /api/realtime on %s', (kind) => {
  let t: TestApp
  let base: string
  let users: Awaited<ReturnType<typeof setupRealtimeBlog>>
  let stream: SseStream

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    const realtime = {
      heartbeatMs: 25_000,
      maxSubscriptions: 5,
      maxConnectionsPerCaller: 3,
      maxBufferBytes: 1 << 20,
    }
    t = await createTestApp(kind, { realtime })
    base = await listen(t)
    users = await setupRealtimeBlog(t)
    stream = await openStream(base)
    const response = await setSubscriptions(
      base,
      { clientId: stream.clientId, subscriptions: ['posts/*'] },
      users.alice.token,
    )
    expect(response.status).toBe(204)
  })
  afterEach(async () => {
    stream?.close()
    await t?.close()
  })

  /** The client still has exactly its one subscription: a public post arrives once, under it. */
  async function expectUnchanged() {
    const post = await write(t, 'POST', '/api/collections/posts/records', users.alice.token, {
      title: `check ${Math.random()}`,
      owner: users.alice.id,
      public: true,
    })
    await stream.until(() => stream.events().some((event) => event.record.id === post.id))
    expect(
      stream
        .events()
        .filter((event) => event.record.id === post.id)
        .map((e) => e.topic),
    ).toEqual(['posts/*'])
  }

  test.each(badBodies)('refuses $name with $status and changes nothing', async ({ body, status, code }) => {
    const response = await setSubscriptions(base, body(stream.clientId), users.alice.token)
    expect(response.status, JSON.stringify(response.body)).toBe(status)
    expect(response.contentType).toContain('application/problem+json')
    expect(response.body).toMatchObject({ status, type: `urn:plinth:error:${code}` })
    await expectUnchanged()
  })

  test('names each bad subscription by its index', async () => {
    const response = await setSubscriptions(
      base,
      { clientId: stream.clientId, subscriptions: ['posts/*', 'nope/*', '__proto__/*'] },
      users.alice.token,
    )
    expect(response.status).toBe(400)
    expect(Object.keys(response.body.errors)).toEqual(['subscriptions.1', 'subscriptions.2'])
  })

  test('refuses another user, and anonymous callers, on a client a user owns', async () => {
    const asBob = await setSubscriptions(
      base,
      { clientId: stream.clientId, subscriptions: ['notes/*'] },
      users.bob.token,
    )
    expect(asBob.status).toBe(403)
    expect(asBob.contentType).toContain('application/problem+json')
    const anonymous = await setSubscriptions(base, { clientId: stream.clientId, subscriptions: [] })
    expect(anonymous.status).toBe(403)
    const garbage = await setSubscriptions(base, { clientId: stream.clientId, subscriptions: [] }, 'a.b.c')
    expect(garbage.status).toBe(401)
    await expectUnchanged()
  })

  test('limits the streams one address holds open anonymously', async () => {
    // The stream of beforeEach counts for alice, who claimed it.
    const open = [await openStream(base), await openStream(base), await openStream(base)]
    const refused = await openStream(base)
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.messages[0]!.data)).toMatchObject({ type: 'urn:plinth:error:rate_limited' })
    open[0]!.close()
    await open[0]!.ended
    // The server hears of the close a moment after the client makes it.
    await until(async () => {
      const again = await openStream(base)
      open.push(again)
      return again.status === 200
    })
    for (const stream of open) stream.close()
  })

  test('limits the streams one user holds, counted once a stream is claimed', async () => {
    const claim = async () => {
      const claimed = await openStream(base)
      const response = await setSubscriptions(
        base,
        { clientId: claimed.clientId, subscriptions: ['posts/*'] },
        users.alice.token,
      )
      return { claimed, status: response.status, body: response.body }
    }
    const first = await claim()
    const second = await claim()
    const third = await claim()
    expect([first.status, second.status, third.status]).toEqual([204, 204, 429])
    expect(third.body).toMatchObject({ type: 'urn:plinth:error:rate_limited' })
    for (const { claimed } of [first, second, third]) claimed.close()
  })
})
