import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openStream, type SseStream, setSubscriptions } from '../test-support/realtime.js'
import { listen, setupRealtimeBlog, write } from '../test-support/realtime-blog.js'

const POSTS = '/api/collections/posts/records'
const NOTES = '/api/collections/notes/records'

describe.each(testDialects)('realtime over SSE on %s', (kind) => {
  let t: TestApp
  let base: string

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    base = await listen(t)
  })
  afterEach(async () => t?.close())

  async function subscribed(topics: string[], token?: string): Promise<SseStream> {
    const stream = await openStream(base)
    const response = await setSubscriptions(base, { clientId: stream.clientId, subscriptions: topics }, token)
    expect(response.status, JSON.stringify(response.body)).toBe(204)
    return stream
  }

  test('opens with PB_CONNECT whose id and data carry the client id', async () => {
    const stream = await openStream(base)
    expect(stream.status).toBe(200)
    expect(stream.messages[0]).toEqual({
      id: stream.clientId,
      event: 'PB_CONNECT',
      data: JSON.stringify({ clientId: stream.clientId }),
    })
    stream.close()
  })

  test('sends each subscriber only the records its list and view rules let it read, never a hidden field', async () => {
    const { alice, bob } = await setupRealtimeBlog(t)
    const topics = ['posts/*', 'notes/*']
    const owner = await subscribed(topics, alice.token)
    const other = await subscribed(topics, bob.token)
    const anonymous = await subscribed(topics)
    const superuser = await subscribed(topics, t.token)
    const all = [owner, other, anonymous, superuser]

    const hiddenPost = await write(t, 'POST', POSTS, alice.token, {
      title: 'mine',
      owner: alice.id,
      secret: 'do not tell',
    })
    const viewers = await subscribed([`posts/${hiddenPost.id}`], alice.token)
    const stranger = await subscribed([`posts/${hiddenPost.id}`], bob.token)
    await write(t, 'PATCH', `${POSTS}/${hiddenPost.id}`, alice.token, { title: 'mine, edited' })
    const note = await write(t, 'POST', NOTES, alice.token, { text: 'a note', owner: alice.id })
    await write(t, 'PATCH', `${NOTES}/${note.id}`, alice.token, { text: 'edited note' })
    await write(t, 'DELETE', `${NOTES}/${note.id}`, alice.token)
    await write(t, 'DELETE', `${POSTS}/${hiddenPost.id}`, alice.token)
    // Everyone may read this one: once it arrives, whatever was due before it has arrived too.
    const marker = await write(t, 'POST', POSTS, alice.token, {
      title: 'public',
      owner: alice.id,
      public: true,
    })
    const hasMarker = (stream: SseStream) => () =>
      stream.events().some((event) => event.record.id === marker.id)
    for (const stream of [...all, viewers, stranger]) {
      if (stream === viewers || stream === stranger) continue
      await stream.until(hasMarker(stream))
    }

    const seen = (stream: SseStream) =>
      stream
        .events()
        .map((event) => `${event.topic} ${event.action} ${event.record.title ?? event.record.text}`)
    expect(seen(owner)).toEqual([
      'posts/* create mine',
      'posts/* update mine, edited',
      'notes/* create a note',
      'notes/* update edited note',
      // Checked on the note as it was, through its owner: the rule still holds once it is gone.
      'notes/* delete edited note',
      'posts/* delete mine, edited',
      'posts/* create public',
    ])
    expect(seen(superuser)).toEqual([
      'posts/* create mine',
      'posts/* update mine, edited',
      'notes/* create a note',
      'notes/* update edited note',
      'notes/* delete edited note',
      'posts/* delete mine, edited',
      'posts/* create public',
    ])
    expect(seen(other)).toEqual(['posts/* create public'])
    expect(seen(anonymous)).toEqual(['posts/* create public'])
    await viewers.until(() => viewers.events().some((event) => event.action === 'delete'))
    expect(seen(viewers)).toEqual([
      `posts/${hiddenPost.id} update mine, edited`,
      `posts/${hiddenPost.id} delete mine, edited`,
    ])
    expect(seen(stranger)).toEqual([])

    for (const stream of [...all, viewers, stranger]) {
      for (const message of stream.messages) expect(message.data).not.toContain('do not tell')
      for (const event of stream.events()) expect(event.record).not.toHaveProperty('secret')
      stream.close()
    }
    const ownerRecord = owner.events()[0]!.record
    expect(ownerRecord).toMatchObject({ collectionName: 'posts', owner: alice.id })
    expect(Number(owner.events()[0]!.id)).toBeGreaterThan(0)
  })

  test('shows records as a read would: email only where visible, fields and expand honoured', async () => {
    const { alice } = await setupRealtimeBlog(t)
    await createCollection(t, { name: 'members', type: 'auth', fields: [], listRule: '', viewRule: '' })
    const anonymous = await subscribed(['members/*'])
    const superuser = await subscribed(['members/*'], t.token)
    const narrow = await subscribed(
      [
        `posts/*?options=${encodeURIComponent(JSON.stringify({ query: { fields: 'id,title,expand', expand: 'owner' } }))}`,
      ],
      alice.token,
    )
    const member = (email: string, emailVisibility: boolean) =>
      t.request({
        method: 'POST',
        url: '/api/collections/members/records',
        payload: {
          email,
          emailVisibility,
          password: 'member password 1',
          passwordConfirm: 'member password 1',
        },
      })
    expect((await member('hidden@example.com', false)).statusCode).toBe(201)
    expect((await member('shown@example.com', true)).statusCode).toBe(201)
    const post = await write(t, 'POST', POSTS, alice.token, { title: 'shaped', owner: alice.id, secret: 's' })
    for (const stream of [anonymous, superuser]) await stream.until(() => stream.events().length === 2)
    await narrow.until(() => narrow.events().length === 1)

    const emails = (stream: SseStream) => stream.events().map((event) => event.record.email)
    expect(emails(anonymous)).toEqual([undefined, 'shown@example.com'])
    expect(emails(superuser)).toEqual(['hidden@example.com', 'shown@example.com'])
    for (const event of [...anonymous.events(), ...superuser.events()]) {
      expect(event.record).not.toHaveProperty('password')
      expect(event.record).not.toHaveProperty('tokenKey')
      expect(event.record.collectionName).toBe('members')
    }
    const shaped = narrow.events()[0]!.record
    expect(Object.keys(shaped).sort()).toEqual(['expand', 'id', 'title'])
    expect(shaped).toMatchObject({ id: post.id, title: 'shaped', expand: { owner: { id: alice.id } } })
    for (const stream of [anonymous, superuser, narrow]) stream.close()
  })
})
