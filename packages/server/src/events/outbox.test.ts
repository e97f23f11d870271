import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { superuser } from '../identity/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { readEvents } from './outbox.js'
import type { StoredEvent } from './types.js'

describe.each(testDialects)('the outbox on %s', (kind) => {
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())

  const eventsAfter = (seq: number) => readEvents(t.app.plinth.dialect.db, seq, 10_000)
  const newest = async () => (await eventsAfter(0)).at(-1)?.seq ?? 0

  test('writes one event per create, update and delete, with the record before and after', async () => {
    const { ada } = await setupBlog(t)
    const start = await newest()
    const post = await createRecord(t, 'posts', { title: 'Hello', author: ada.id })
    const patched = await t.request({
      method: 'PATCH',
      url: `/api/collections/posts/records/${post.id}`,
      payload: { title: 'Hello again' },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    const removed = await t.request({ method: 'DELETE', url: `/api/collections/posts/records/${post.id}` })
    expect(removed.statusCode).toBe(204)

    const events = await eventsAfter(start)
    expect(events.map((event) => event.type)).toEqual(['record.created', 'record.updated', 'record.deleted'])
    expect(events.every((event) => event.collection === 'posts' && event.recordId === post.id)).toBe(true)
    const [created, updated, deleted] = events as [StoredEvent, StoredEvent, StoredEvent]
    expect(created.record).toMatchObject({ id: post.id, title: 'Hello', author: ada.id })
    expect(created.previous).toBeNull()
    expect(updated.previous).toMatchObject({ title: 'Hello' })
    expect(updated.record).toMatchObject({ title: 'Hello again' })
    expect(deleted.record).toMatchObject({ title: 'Hello again' })
    expect(deleted.previous).toMatchObject({ title: 'Hello again' })
    expect(created.seq).toBeLessThan(updated.seq)
    expect(updated.seq).toBeLessThan(deleted.seq)
    expect(new Set(events.map((event) => event.id)).size).toBe(3)
    expect(created.actor).toMatchObject({ type: 'superuser', collection: '_superusers' })
  })

  test('leaves hidden fields out of what is delivered, and keeps them for rules only', async () => {
    const start = await newest()
    await setupBlog(t)
    const [ada] = (await eventsAfter(start)).filter((event) => event.record.name === 'Ada')
    expect(ada!.record).not.toHaveProperty('secret')
    expect(ada!.hidden).toEqual({ record: { secret: 's1' }, previous: null })
    const [bob] = (await eventsAfter(start)).filter((event) => event.record.name === 'Bob')
    expect(bob!.record).not.toHaveProperty('secret')
  })

  test('never carries a password hash or a token key', async () => {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    const start = await newest()
    const signUp = await t.request({
      method: 'POST',
      url: '/api/collections/users/records',
      auth: null,
      payload: { email: 'u@example.com', password: 'user password 1', passwordConfirm: 'user password 1' },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
    const [event] = await eventsAfter(start)
    const stored = JSON.stringify(event)
    expect(stored).not.toContain('password')
    expect(stored).not.toContain('tokenKey')
    expect(event!.actor).toEqual({ type: 'anonymous' })
  })

  test('writes nothing for a change that does not commit', async () => {
    const { ada } = await setupBlog(t)
    const start = await newest()
    const duplicate = await createRecord(t, 'posts', { title: 'Taken', author: ada.id })
    const refused = await t.request({
      method: 'POST',
      url: '/api/collections/posts/records',
      payload: { title: 'Taken' },
    })
    expect(refused.statusCode).toBe(400)
    const batch = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: '/api/collections/posts/records', body: { title: 'First of a batch' } },
          { method: 'POST', url: '/api/collections/posts/records', body: { title: 'Taken' } },
        ],
      },
    })
    expect(batch.statusCode).toBeGreaterThanOrEqual(400)
    const events = await eventsAfter(start)
    expect(events.map((event) => event.recordId)).toEqual([duplicate.id])
  })

  test('writes an event for each record a delete cascades to', async () => {
    const { ada } = await setupBlog(t)
    const first = await createRecord(t, 'posts', { title: 'One', author: ada.id })
    const second = await createRecord(t, 'posts', { title: 'Two', author: ada.id })
    const start = await newest()
    const removed = await t.request({ method: 'DELETE', url: `/api/collections/authors/records/${ada.id}` })
    expect(removed.statusCode).toBe(204)
    const events = await eventsAfter(start)
    expect(events.every((event) => event.type === 'record.deleted')).toBe(true)
    expect(events.map((event) => event.recordId).sort()).toEqual([ada.id, first.id, second.id].sort())
  })

  test('numbers concurrent changes of one record in the order they committed', async () => {
    await createCollection(t, {
      name: 'counters',
      fields: [{ name: 'n', type: 'number' }],
      updateRule: null,
    })
    const counter = await createRecord(t, 'counters', { n: 0 })
    const start = await newest()
    const records = t.app.plinth.records
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => records.update(superuser, 'counters', counter.id, { n: i + 1 })),
    )
    const events = await eventsAfter(start)
    expect(events).toHaveLength(30)
    // Each update's previous is the record the one before it wrote: delivery in seq order replays the history.
    for (let i = 1; i < events.length; i++) expect(events[i]!.previous).toEqual(events[i - 1]!.record)
  })
})
