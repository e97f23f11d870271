import type { FastifyInstance } from 'fastify'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createApp } from '../http/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createRecord, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const posts = '/api/collections/posts/records'
const WRITERS = 12

describe.each(testDialects)('concurrent writes on %s', (kind) => {
  let t: TestApp
  let ada: Record<string, any>
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    ;({ ada } = await setupBlog(t))
  })
  afterEach(async () => t?.close())

  const statuses = (responses: Array<{ statusCode: number }>) =>
    responses.map((response) => response.statusCode).sort()

  test('of one If-Match, exactly one PATCH wins and the others get 412', async () => {
    const post = await createRecord(t, 'posts', { title: 'contended', author: ada.id, views: 0 })
    const etag = (await t.request({ method: 'GET', url: `${posts}/${post.id}` })).headers.etag as string
    const responses = await Promise.all(
      Array.from({ length: WRITERS }, (_, views) =>
        t.request({
          method: 'PATCH',
          url: `${posts}/${post.id}`,
          headers: { 'if-match': etag },
          payload: { views: views + 1 },
        }),
      ),
    )
    expect(statuses(responses)).toEqual([200, ...Array(WRITERS - 1).fill(412)])
    const winner = responses.find((response) => response.statusCode === 200)!
    const stored = await t.request({ method: 'GET', url: `${posts}/${post.id}` })
    expect(stored.json().views).toBe(winner.json().views)
  })

  test('updates racing a delete of the same record end in 200 or 404, never a fault', async () => {
    const post = await createRecord(t, 'posts', { title: 'doomed', author: ada.id })
    const responses = await Promise.all([
      ...Array.from({ length: WRITERS / 2 }, (_, views) =>
        t.request({ method: 'PATCH', url: `${posts}/${post.id}`, payload: { views } }),
      ),
      t.request({ method: 'DELETE', url: `${posts}/${post.id}` }),
      ...Array.from({ length: WRITERS / 2 }, (_, views) =>
        t.request({ method: 'PATCH', url: `${posts}/${post.id}`, payload: { views } }),
      ),
    ])
    for (const response of responses) expect([200, 204, 404], response.body).toContain(response.statusCode)
    expect(responses.filter((response) => response.statusCode === 204)).toHaveLength(1)
    expect((await t.request({ method: 'GET', url: `${posts}/${post.id}` })).statusCode).toBe(404)
  })

  test('writes to posts racing the delete of their author, which cascades, never fault', async () => {
    const mine = await Promise.all(
      Array.from({ length: 4 }, (_, n) => createRecord(t, 'posts', { title: `p${n}`, author: ada.id })),
    )
    const responses = await Promise.all([
      ...mine.map((post, views) =>
        t.request({ method: 'PATCH', url: `${posts}/${post.id}`, payload: { views } }),
      ),
      t.request({ method: 'DELETE', url: `/api/collections/authors/records/${ada.id}` }),
      ...mine.map((post, views) =>
        t.request({ method: 'PATCH', url: `${posts}/${post.id}`, payload: { views } }),
      ),
      t.request({ method: 'POST', url: posts, payload: { title: 'late', author: ada.id } }),
    ])
    for (const response of responses)
      expect([200, 201, 204, 400, 404], response.body).toContain(response.statusCode)
    const left = await t.request({
      method: 'GET',
      url: `${posts}?filter=${encodeURIComponent(`author = "${ada.id}"`)}`,
    })
    expect(left.json().totalItems).toBe(0)
  })

  describe('when another node changes the schema', () => {
    let other: FastifyInstance
    beforeEach(async () => {
      other = await createApp(t.config)
    })
    afterEach(async () => other?.close())

    test('a write naming a removed field is a 409 that applies nothing; this node then learns the change', async () => {
      const definition = (await t.request({ method: 'GET', url: '/api/collections/posts' })).json()
      const dropped = await other.inject({
        method: 'PATCH',
        url: '/api/collections/posts',
        headers: { authorization: `Bearer ${t.token}` },
        payload: { fields: definition.fields.filter((field: { name: string }) => field.name !== 'views') },
      })
      expect(dropped.statusCode, dropped.body).toBe(200)

      const stale = await t.request({
        method: 'POST',
        url: posts,
        payload: { title: 'stale', author: ada.id },
      })
      expect(stale.statusCode, stale.body).toBe(409)
      expect(stale.headers['content-type']).toContain('application/problem+json')
      expect(stale.json()).toMatchObject({ type: 'urn:plinth:error:schema_changed', status: 409 })

      await expect
        .poll(async () => (await t.request({ method: 'GET', url: '/api/collections/posts' })).json().fields)
        .not.toContainEqual(expect.objectContaining({ name: 'views' }))
      const again = await t.request({
        method: 'POST',
        url: posts,
        payload: { title: 'stale', author: ada.id },
      })
      expect(again.statusCode, again.body).toBe(201)
      expect(again.json()).not.toHaveProperty('views')
      const titles = (await t.request({ method: 'GET', url: posts })).json().items.map((p: any) => p.title)
      expect(titles.filter((title: string) => title === 'stale')).toHaveLength(1)
    })
  })
})
