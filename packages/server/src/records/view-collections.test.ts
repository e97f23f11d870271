import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, url } from '../test-support/rules-blog.js'

const postStats = {
  name: 'post_stats',
  type: 'view',
  viewQuery:
    'SELECT p.id, p.title, p.owner, p.published, p.created, count(c.id) AS comments FROM posts p LEFT JOIN comments c ON c.post = p.id GROUP BY p.id',
  listRule: 'owner = @request.auth.id',
  viewRule: 'owner = @request.auth.id',
}

describe.each(testDialects)('view collections on %s', (kind) => {
  let blog: Blog
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    blog = await createBlog(kind)
    const created = await blog.t.request({ method: 'POST', url: '/api/collections', payload: postStats })
    expect(created.statusCode, created.body).toBe(201)
  })
  afterEach(async () => blog?.t.close())

  test('the fields are inferred from the query', async () => {
    const { t } = blog
    const view = (await t.request({ method: 'GET', url: '/api/collections/post_stats' })).json()
    expect(view.fields.map((f: any) => [f.name, f.type, f.collection])).toEqual([
      ['id', 'text', undefined],
      ['title', 'text', undefined],
      ['owner', 'relation', 'users'],
      ['published', 'bool', undefined],
      ['created', 'date', undefined],
      ['comments', 'number', undefined],
    ])
  })
})
