import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createRecord, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const posts = '/api/collections/posts/records'

describe.each(testDialects)('POST /api/batch on %s', (kind) => {
  let t: TestApp
  let ada: Record<string, any>
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    ;({ ada } = await setupBlog(t))
  })
  afterEach(async () => t?.close())
  const batch = (requests: unknown) => t.request({ method: 'POST', url: '/api/batch', payload: { requests } })

  test('applies creates, updates and deletes together', async () => {
    const existing = await createRecord(t, 'posts', { title: 'old' })
    const response = await batch([
      { method: 'POST', url: posts, body: { title: 'a', author: ada.id } },
      { method: 'PATCH', url: `${posts}/${existing.id}`, body: { views: 7 } },
      { method: 'POST', url: `${posts}?expand=author`, body: { title: 'b', author: ada.id } },
      { method: 'DELETE', url: `${posts}/${existing.id}` },
    ])
    expect(response.statusCode, response.body).toBe(200)
    const results = response.json()
    expect(results.map((r: any) => r.status)).toEqual([201, 200, 201, 204])
    expect(results[1].body.views).toBe(7)
    expect(results[2].body.expand.author.name).toBe('Ada')
    expect(await countRecords(t, 'posts')).toBe(2)
  })

  test('a failing request rolls back the whole batch and names its index', async () => {
    const response = await batch([
      { method: 'POST', url: posts, body: { title: 'first' } },
      { method: 'POST', url: posts, body: { title: 'second' } },
      { method: 'POST', url: posts, body: { title: 'first' } },
    ])
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({
      failedIndex: 2,
      failedStatus: 400,
      type: 'urn:plinth:error:batch_failed',
    })
    expect(response.json().errors.title.code).toBe('not_unique')
    expect(await countRecords(t, 'posts')).toBe(0)
  })

  test('an If-Match conflict inside a batch rolls back the earlier writes', async () => {
    const existing = await createRecord(t, 'posts', { title: 'x' })
    const response = await batch([
      { method: 'POST', url: posts, body: { title: 'new' } },
      {
        method: 'PATCH',
        url: `${posts}/${existing.id}`,
        body: { views: 1 },
        headers: { 'If-Match': '"stale"' },
      },
    ])
    expect(response.json()).toMatchObject({ failedIndex: 1, failedStatus: 412 })
    expect(await countRecords(t, 'posts')).toBe(1)
  })

  const badBatches = [
    { name: 'no requests', payload: { requests: [] } },
    { name: 'requests not a list', payload: { requests: 'x' } },
    { name: 'unknown key', payload: { requests: [{ method: 'POST', url: posts, body: {} }], extra: 1 } },
    {
      name: 'unknown request key',
      payload: { requests: [{ method: 'POST', url: posts, body: {}, nope: 1 }] },
    },
    {
      name: 'too many',
      payload: {
        requests: Array.from({ length: 101 }, () => ({ method: 'POST', url: posts, body: { title: 'x' } })),
      },
    },
    { name: 'GET in a batch', payload: { requests: [{ method: 'GET', url: posts }] } },
    {
      name: 'foreign URL',
      payload: { requests: [{ method: 'POST', url: '/api/collections', body: { name: 'x' } }] },
    },
    {
      name: 'unknown collection',
      payload: { requests: [{ method: 'POST', url: '/api/collections/nope/records', body: {} }] },
    },
  ]

  test.each(badBatches)('rejects $name with a 4xx and applies nothing', async ({ payload }) => {
    const response = await t.request({ method: 'POST', url: '/api/batch', payload })
    expect(response.statusCode).toBeGreaterThanOrEqual(400)
    expect(response.statusCode).toBeLessThan(500)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(await countRecords(t, 'posts')).toBe(0)
  })

  test('anonymous batches obey the rules', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/batch',
      auth: null,
      payload: { requests: [{ method: 'POST', url: posts, body: { title: 'x' } }] },
    })
    expect(response.json()).toMatchObject({ failedIndex: 0, failedStatus: 401 })
    expect(await countRecords(t, 'posts')).toBe(0)
  })
})
