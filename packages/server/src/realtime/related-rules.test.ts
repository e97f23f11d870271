import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openStream, type SseStream, setSubscriptions } from '../test-support/realtime.js'
import { account, listen, write } from '../test-support/realtime-blog.js'

const url = (collection: string, id = '') => `/api/collections/${collection}/records${id ? `/${id}` : ''}`

/**
 * Rules that read other rows: through relations (two hops), and through `@collection`.
 * Each event is decided on the record it carries, so a change is judged as written and a
 * delete as the record was, however quickly the next write follows.
 */
describe.each(testDialects)('realtime rules that read other rows on %s', (kind) => {
  let t: TestApp
  let base: string
  let streams: SseStream[]

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    base = await listen(t)
    streams = []
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [],
      createRule: '',
      viewRule: 'id = @request.auth.id',
    })
    await createCollection(t, {
      name: 'boards',
      fields: [
        { name: 'name', type: 'text' },
        { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      ],
      createRule: '@request.auth.id != ""',
      listRule: 'owner = @request.auth.id',
      updateRule: 'owner = @request.auth.id',
    })
    const throughBoard = 'board.owner.id = @request.auth.id'
    await createCollection(t, {
      name: 'cards',
      fields: [
        { name: 'text', type: 'text' },
        { name: 'board', type: 'relation', collection: 'boards', maxSelect: 1 },
      ],
      createRule: '@request.auth.id != ""',
      listRule: throughBoard,
      updateRule: '',
      deleteRule: '',
    })
    await createCollection(t, {
      name: 'members',
      fields: [
        { name: 'user', type: 'relation', collection: 'users', maxSelect: 1 },
        { name: 'room', type: 'text' },
      ],
      createRule: '@request.auth.id != ""',
    })
    await createCollection(t, {
      name: 'messages',
      fields: [
        { name: 'text', type: 'text' },
        { name: 'room', type: 'text' },
      ],
      createRule: '@request.auth.id != ""',
      listRule: '@collection.members.user ?= @request.auth.id && @collection.members.room ?= room',
      deleteRule: '',
    })
  })
  afterEach(async () => {
    for (const stream of streams) stream.close()
    await t?.close()
  })

  async function subscribed(topics: string[], token: string): Promise<SseStream> {
    const stream = await openStream(base)
    streams.push(stream)
    const response = await setSubscriptions(base, { clientId: stream.clientId, subscriptions: topics }, token)
    expect(response.status, JSON.stringify(response.body)).toBe(204)
    return stream
  }

  const seen = (stream: SseStream) =>
    stream.events().map((event) => `${event.action} ${event.record.text ?? event.record.name}`)

  test('a rule two relations deep is checked on the card as written, and on the card as it was when deleted', async () => {
    const alice = await account(t, 'alice@example.com')
    const bob = await account(t, 'bob@example.com')
    const aliceListens = await subscribed(['cards/*'], alice.token)
    const bobListens = await subscribed(['cards/*'], bob.token)
    const alices = await write(t, 'POST', url('boards'), alice.token, { name: 'A', owner: alice.id })
    const bobs = await write(t, 'POST', url('boards'), bob.token, { name: 'B', owner: bob.id })

    const card = await write(t, 'POST', url('cards'), alice.token, { text: 'draft', board: alices.id })
    // Moved to Bob's board and deleted at once: each event keeps the board it had.
    await write(t, 'PATCH', url('cards', card.id), alice.token, { text: 'moved', board: bobs.id })
    await write(t, 'DELETE', url('cards', card.id), alice.token)
    const marker = await write(t, 'POST', url('cards'), bob.token, { text: 'marker', board: bobs.id })
    await bobListens.until(() => bobListens.events().some((event) => event.record.id === marker.id))
    await aliceListens.until(() => aliceListens.events().length >= 1)

    expect(seen(aliceListens)).toEqual(['create draft'])
    expect(seen(bobListens)).toEqual(['update moved', 'delete moved', 'create marker'])
  })

  test('an @collection rule is checked by a query, and its deletes are held back', async () => {
    const alice = await account(t, 'alice@example.com')
    const bob = await account(t, 'bob@example.com')
    await write(t, 'POST', url('members'), alice.token, { user: alice.id, room: 'lobby' })
    const aliceListens = await subscribed(['messages/*'], alice.token)
    const bobListens = await subscribed(['messages/*'], bob.token)
    const superuserListens = await subscribed(['messages/*'], t.token)

    const hello = await write(t, 'POST', url('messages'), bob.token, { text: 'hello', room: 'lobby' })
    await write(t, 'POST', url('messages'), bob.token, { text: 'elsewhere', room: 'attic' })
    await aliceListens.until(() => aliceListens.events().length >= 1)
    await write(t, 'DELETE', url('messages', hello.id), bob.token)
    const marker = await write(t, 'POST', url('messages'), bob.token, { text: 'marker', room: 'lobby' })
    await aliceListens.until(() => aliceListens.events().some((event) => event.record.id === marker.id))
    await superuserListens.until(() =>
      superuserListens.events().some((event) => event.record.id === marker.id),
    )

    expect(seen(aliceListens)).toEqual(['create hello', 'create marker'])
    expect(seen(bobListens)).toEqual([])
    expect(seen(superuserListens)).toEqual([
      'create hello',
      'create elsewhere',
      'delete hello',
      'create marker',
    ])
  })
})
