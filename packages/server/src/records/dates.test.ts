import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createRecord, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const posts = '/api/collections/posts/records'

// A date a record refuses is one a filter refuses too: both read dates with one parser.
const impossibleDates = [
  { name: 'February 30', value: '2024-02-30' },
  { name: 'February 29 of a common year', value: '2023-02-29T10:00:00Z' },
  { name: 'month 13', value: '2024-13-01' },
  { name: 'hour 25', value: '2024-05-01T25:00:00Z' },
  { name: 'minute 60', value: '2024-05-01T10:60:00Z' },
  { name: 'year 0000', value: '0000-01-01' },
  { name: 'year 0000 after the offset', value: '0001-01-01T00:30:00+01:00' },
  { name: 'offset beyond 18 hours', value: '2024-05-01T10:00:00+19:00' },
]
const someImpossibleDates = impossibleDates.filter((d) => /February 30|hour 25|year 0000$/.test(d.name))

describe.each(testDialects)('date values on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await setupBlog(t)
  })
  afterEach(async () => t?.close())

  test.each(impossibleDates)('a create with $name is refused and stores nothing', async ({ value }) => {
    const response = await t.request({
      method: 'POST',
      url: posts,
      payload: { title: 'x', published_at: value },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const problem = response.json().errors.published_at
    expect(problem.code).toBe('invalid_date')
    expect(problem.message).toBe(
      'must be a date like 2024-05-01 or 2024-05-01T10:00:00Z (ISO 8601; a time needs Z or an offset such as +02:00; years 0001 to 9999)',
    )
    expect(await countRecords(t, 'posts')).toBe(0)
  })

  test.each(someImpossibleDates)('an update with $name is refused and changes nothing', async ({ value }) => {
    const post = await createRecord(t, 'posts', { title: 'Keep', published_at: '2024-05-01' })
    const url = `${posts}/${post.id}`
    const response = await t.request({ method: 'PATCH', url, payload: { published_at: value } })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().errors.published_at.code).toBe('invalid_date')
    expect((await t.request({ method: 'GET', url })).json()).toEqual(post)
  })

  test.each(someImpossibleDates)('a filter with $name is refused naming the field', async ({ value }) => {
    const filter = encodeURIComponent(`published_at = "${value}"`)
    const response = await t.request({ method: 'GET', url: `${posts}?filter=${filter}` })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().detail).toContain('"published_at" (date)')
    expect(response.json().detail).toContain('expected a date like "2024-05-01" or "2024-05-01 10:00:00"')
  })

  test('a real date is stored in UTC and found by a filter written in another form', async () => {
    const post = await createRecord(t, 'posts', { title: 'Leap', published_at: '2024-02-29t23:30:00-01:00' })
    expect(post.published_at).toBe('2024-03-01T00:30:00.000Z')
    const filter = encodeURIComponent('published_at = "2024-03-01 00:30:00"')
    const found = await t.request({ method: 'GET', url: `${posts}?filter=${filter}` })
    expect(found.json().items.map((p: { id: string }) => p.id)).toEqual([post.id])
  })

  test('a date field bound must be a real date', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'events', fields: [{ name: 'on', type: 'date', min: '2024-02-30' }] },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(JSON.stringify(response.json().errors)).toContain('must be a date like 2024-05-01')
  })
})
