import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import WebSocket from 'ws'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openSocket, type RealtimeSocket } from '../test-support/realtime.js'
import { listen, setupRealtimeBlog, write } from '../test-support/realtime-blog.js'

const POSTS = '/api/collections/posts/records'
const NOTES = '/api/collections/notes/records'

describe.each(testDialects)('realtime over WebSocket on %s', (kind) => {
  let t: TestApp
  let base: string
  let users: Awaited<ReturnType<typeof setupRealtimeBlog>>
  const sockets: RealtimeSocket[] = []

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    base = await listen(t)
    users = await setupRealtimeBlog(t)
  })
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.socket.terminate()
    await t?.close()
  })

  async function subscribed(subscriptions: string[], token?: string): Promise<RealtimeSocket> {
    const socket = await openSocket(base)
    sockets.push(socket)
    socket.send({ type: 'subscribe', subscriptions, ...(token ? { token } : {}) })
    await socket.until((messages) => messages.some((m) => m.type === 'subscribed' || m.type === 'error'))
    expect(socket.messages.at(-1)).toEqual({ type: 'subscribed', subscriptions })
    return socket
  }

  const seen = (socket: RealtimeSocket) =>
    socket.messages
      .filter((m) => m.type === 'event')
      .map((m) => `${m.topic} ${m.data.action} ${m.data.record.title ?? m.data.record.text}`)

  test('sends each subscriber only what its rules let it read, as over SSE', async () => {
    const { alice, bob } = users
    const topics = ['posts/*', 'notes/*']
    const owner = await subscribed(topics, alice.token)
    const other = await subscribed(topics, bob.token)
    const anonymous = await subscribed(topics)
    const superuser = await subscribed(topics, t.token)
    const post = await write(t, 'POST', POSTS, alice.token, {
      title: 'mine',
      owner: alice.id,
      secret: 'psst',
    })
    const viewer = await subscribed([`posts/${post.id}`], alice.token)
    const stranger = await subscribed([`posts/${post.id}`], bob.token)
    await write(t, 'PATCH', `${POSTS}/${post.id}`, alice.token, { title: 'mine, edited' })
    const note = await write(t, 'POST', NOTES, alice.token, { text: 'a note', owner: alice.id })
    await write(t, 'DELETE', `${NOTES}/${note.id}`, alice.token)
    await write(t, 'DELETE', `${POSTS}/${post.id}`, alice.token)
    const marker = await write(t, 'POST', POSTS, alice.token, {
      title: 'public',
      owner: alice.id,
      public: true,
    })
    for (const socket of [owner, other, anonymous, superuser])
      await socket.until((messages) => messages.some((m) => m.data?.record?.id === marker.id))
    await viewer.until((messages) => messages.some((m) => m.data?.action === 'delete'))

    expect(seen(owner)).toEqual([
      'posts/* create mine',
      'posts/* update mine, edited',
      'notes/* create a note',
      'notes/* delete a note',
      'posts/* delete mine, edited',
      'posts/* create public',
    ])
    expect(seen(superuser)).toEqual([
      'posts/* create mine',
      'posts/* update mine, edited',
      'notes/* create a note',
      'notes/* delete a note',
      'posts/* delete mine, edited',
      'posts/* create public',
    ])
    expect(seen(other)).toEqual(['posts/* create public'])
    expect(seen(anonymous)).toEqual(['posts/* create public'])
    expect(seen(viewer)).toEqual([
      `posts/${post.id} update mine, edited`,
      `posts/${post.id} delete mine, edited`,
    ])
    expect(seen(stranger)).toEqual([])
    for (const socket of sockets)
      for (const message of socket.messages) expect(JSON.stringify(message)).not.toContain('psst')
    const event = owner.messages.find((m) => m.type === 'event')!
    expect(Number(event.id)).toBeGreaterThan(0)
  })

  const badMessages: { name: string; message: string | Buffer; code: string }[] = [
    { name: 'malformed JSON', message: '{"type":', code: 'malformed_json' },
    { name: 'an array', message: '[]', code: 'bad_request' },
    { name: 'an unknown type', message: '{"type":"admin","subscriptions":[]}', code: 'bad_request' },
    {
      name: 'an unknown key',
      message: '{"type":"subscribe","subscriptions":[],"extra":1}',
      code: 'bad_request',
    },
    {
      name: '__proto__ as a key',
      message: '{"type":"subscribe","subscriptions":[],"__proto__":{}}',
      code: 'bad_request',
    },
    {
      name: 'subscriptions of the wrong type',
      message: '{"type":"subscribe","subscriptions":"posts/*"}',
      code: 'bad_request',
    },
    {
      name: 'a token of the wrong type',
      message: '{"type":"subscribe","subscriptions":[],"token":7}',
      code: 'bad_request',
    },
    {
      name: 'an unknown collection',
      message: '{"type":"subscribe","subscriptions":["nope/*"]}',
      code: 'invalid_subscription',
    },
    ...['__proto__', 'constructor', 'prototype'].map((name) => ({
      name: `${name} as the collection`,
      message: `{"type":"subscribe","subscriptions":["${name}/*"]}`,
      code: 'invalid_subscription',
    })),
    {
      name: 'a token that is not valid',
      message: '{"type":"subscribe","subscriptions":[],"token":"a.b.c"}',
      code: 'invalid_token',
    },
    {
      name: 'a binary message',
      message: Buffer.from('{"type":"subscribe","subscriptions":[]}'),
      code: 'unsupported_media_type',
    },
  ]

  test.each(badMessages)(
    'answers $name with an error and keeps the subscriptions',
    async ({ message, code }) => {
      const socket = await subscribed(['posts/*'], users.alice.token)
      socket.socket.send(message)
      await socket.until((messages) => messages.some((m) => m.type === 'error'))
      const { error } = socket.messages.find((m) => m.type === 'error')!
      expect(error).toMatchObject({ type: `urn:plinth:error:${code}`, message: error.detail })
      expect(error.data).toEqual(error.errors ?? {})
      const post = await write(t, 'POST', POSTS, users.alice.token, {
        title: 'still here',
        owner: users.alice.id,
      })
      await socket.until((messages) => messages.some((m) => m.data?.record?.id === post.id))
    },
  )

  test('refuses another user’s token on a client a user owns', async () => {
    const socket = await subscribed(['posts/*'], users.alice.token)
    socket.send({ type: 'subscribe', subscriptions: ['notes/*'], token: users.bob.token })
    await socket.until((messages) => messages.some((m) => m.type === 'error'))
    expect(socket.messages.at(-1)!.error).toMatchObject({ status: 403, type: 'urn:plinth:error:forbidden' })
  })

  test('a signed-out session ends the socket', async () => {
    const socket = await subscribed(['posts/*'], users.alice.token)
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-logout',
      auth: users.alice.token,
    })
    expect(response.statusCode).toBe(204)
    expect((await socket.closed).code).toBe(4401)
    expect(socket.messages.at(-1)).toEqual({ type: 'end', reason: 'revoked' })
  })

  test('resumes after lastEventId', async () => {
    const first = await subscribed(['posts/*'])
    await write(t, 'POST', POSTS, users.alice.token, { title: 'one', owner: users.alice.id, public: true })
    await first.until((messages) => messages.some((m) => m.type === 'event'))
    const lastId = first.messages.find((m) => m.type === 'event')!.id
    first.socket.close()
    await write(t, 'POST', POSTS, users.alice.token, { title: 'two', owner: users.alice.id, public: true })
    const resumed = await openSocket(base, `/api/realtime/ws?lastEventId=${lastId}`)
    sockets.push(resumed)
    resumed.send({ type: 'subscribe', subscriptions: ['posts/*'] })
    await resumed.until((messages) => messages.some((m) => m.type === 'event'))
    expect(seen(resumed)).toEqual(['posts/* create two'])
  })

  test('refuses the upgrade with a 401 problem for a token that is not valid', async () => {
    const socket = new WebSocket(`${base.replace('http', 'ws')}/api/realtime/ws`, {
      headers: { authorization: 'Bearer a.b.c' },
    })
    const answer = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      socket.on('unexpected-response', (_request, response) => {
        resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']) })
        response.resume()
        response.on('end', () => socket.terminate())
      })
      socket.on('open', () => reject(new Error('the upgrade was accepted')))
      socket.on('error', () => {})
    })
    expect(answer).toMatchObject({ status: 401 })
    expect(answer.type).toContain('application/problem+json')
  })
})
