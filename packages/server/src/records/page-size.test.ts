import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { MAX_BATCH_REQUESTS } from './index.js'

const NOTES = '/api/collections/notes/records'
const LISTS = '/api/collections/lists/records'
const NOTE_COUNT = 1001

// The PocketBase SDK's getFullList() asks for pages of 1,000 records.
describe.each(testDialects)('pages of up to 1,000 records on %s', (kind) => {
  let t: TestApp
  let noteIds: string[]

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    await createCollection(t, { name: 'notes', fields: [{ name: 'n', type: 'number' }] })
    await createCollection(t, {
      name: 'lists',
      fields: [{ name: 'notes', type: 'relation', collection: 'notes', maxSelect: 1000 }],
    })
    for (let first = 0; first < NOTE_COUNT; first += MAX_BATCH_REQUESTS) {
      const count = Math.min(MAX_BATCH_REQUESTS, NOTE_COUNT - first)
      const requests = Array.from({ length: count }, (_, offset) => ({
        method: 'POST',
        url: NOTES,
        body: { n: first + offset },
      }))
      const batch = await t.request({ method: 'POST', url: '/api/batch', payload: { requests } })
      expect(batch.statusCode, batch.body).toBe(200)
    }
    const all = await t.request({ method: 'GET', url: `${NOTES}?perPage=1000&sort=n&skipTotal=1` })
    const rest = await t.request({ method: 'GET', url: `${NOTES}?perPage=1000&page=2&sort=n&skipTotal=1` })
    noteIds = [...all.json().items, ...rest.json().items].map((note: { id: string }) => note.id)
  }, 120_000)
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  test('perPage=1000 answers 1,000 records and the totals', async () => {
    const first = await t.request({ method: 'GET', url: `${NOTES}?perPage=1000&sort=n` })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.json()).toMatchObject({ page: 1, perPage: 1000, totalItems: NOTE_COUNT, totalPages: 2 })
    expect(first.json().items).toHaveLength(1000)
    const second = await t.request({ method: 'GET', url: `${NOTES}?perPage=1000&page=2&sort=n` })
    expect(second.json().items.map((note: { n: number }) => note.n)).toEqual([1000])
    expect(new Set(noteIds).size).toBe(NOTE_COUNT)
  })

  test('skipTotal with perPage=1000 counts nothing', async () => {
    const response = await t.request({ method: 'GET', url: `${NOTES}?perPage=1000&skipTotal=1` })
    expect(response.json()).toMatchObject({ perPage: 1000, totalItems: -1, totalPages: -1 })
    expect(response.json().items).toHaveLength(1000)
  })

  test.each(['1001', '5000', '1000000000', '1000.0', '-1000', '1e3', '0x3e8', ' 1000', "1000' OR 1=1 --"])(
    'perPage=%s is a 400 naming perPage',
    async (perPage) => {
      const response = await t.request({
        method: 'GET',
        url: `${NOTES}?perPage=${encodeURIComponent(perPage)}`,
      })
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().errors.perPage.code).toBe('invalid_query')
    },
  )

  test('expand reads every related record when they are more than one statement holds', async () => {
    const a = await createRecord(t, 'lists', { notes: noteIds.slice(0, 1000) })
    const b = await createRecord(t, 'lists', { notes: noteIds.slice(1, 1001) })
    const response = await t.request({ method: 'GET', url: `${LISTS}?expand=notes&sort=created,id` })
    expect(response.statusCode, response.body).toBe(200)
    const byId = new Map(response.json().items.map((list: { id: string }) => [list.id, list]))
    const expanded = (id: string) =>
      (byId.get(id) as { expand: { notes: Array<{ id: string }> } }).expand.notes.map((note) => note.id)
    expect(expanded(a.id)).toEqual(noteIds.slice(0, 1000))
    expect(expanded(b.id)).toEqual(noteIds.slice(1, 1001))
  })
})
