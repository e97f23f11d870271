import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, seed, url } from '../test-support/rules-blog.js'

/** Posts with their comment counts; each user lists only the rows of their own posts. */
export const postStats = {
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

  const list = async (query: string, auth?: string | null) => {
    const response = await blog.t.request({ method: 'GET', url: url('post_stats', undefined, query), auth })
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  test('the fields are inferred from the query', async () => {
    const view = (await blog.t.request({ method: 'GET', url: '/api/collections/post_stats' })).json()
    expect(view.fields.map((f: any) => [f.name, f.type, f.collection])).toEqual([
      ['id', 'text', undefined],
      ['title', 'text', undefined],
      ['owner', 'relation', 'users'],
      ['published', 'bool', undefined],
      ['created', 'date', undefined],
      ['comments', 'number', undefined],
    ])
    expect(view.viewQuery).toBe(postStats.viewQuery)
    expect([view.createRule, view.updateRule, view.deleteRule]).toEqual([null, null, null])
  })

  test('lists filter, sort, pick fields and expand like any collection', async () => {
    const { ids, ann } = blog
    await seed(blog.t, 'comments', { post: ids.annPublic, author: ann.id, body: 'second' })
    const page = await list('?sort=-comments,title&fields=id,title,comments')
    expect(page.totalItems).toBe(3)
    expect(page.items).toEqual([
      { id: ids.annPublic, title: 'Ann public', comments: 2 },
      { id: ids.annDraft, title: 'Ann draft', comments: 1 },
      { id: ids.bobDraft, title: 'Bob draft', comments: 1 },
    ])
    const filtered = await list(`?filter=${encodeURIComponent('comments >= 2 || title ~ "bob"')}&sort=title`)
    expect(filtered.items.map((r: any) => r.title)).toEqual(['Ann public', 'Bob draft'])
    expect(filtered.items[0]).toMatchObject({ published: true, collectionName: 'post_stats' })
    const byOwner = await list(
      `?filter=${encodeURIComponent('owner.email = "bob@example.com"')}&expand=owner`,
    )
    expect(byOwner.items).toHaveLength(1)
    expect(byOwner.items[0].expand.owner.id).toBe(blog.bob.id)
  })

  test('the list and view rules apply: each user sees only the rows of their own posts', async () => {
    const { ann, bob, ids } = blog
    expect((await list('?sort=title', ann.token)).items.map((r: any) => r.title)).toEqual([
      'Ann draft',
      'Ann public',
    ])
    expect((await list('', bob.token)).items.map((r: any) => r.title)).toEqual(['Bob draft'])
    expect((await list('', null)).items).toEqual([])
    const own = await blog.t.request({ method: 'GET', url: url('post_stats', ids.bobDraft), auth: bob.token })
    expect(own.statusCode).toBe(200)
    expect(own.json()).toMatchObject({ title: 'Bob draft', comments: 1 })
    const other = await blog.t.request({
      method: 'GET',
      url: url('post_stats', ids.bobDraft),
      auth: ann.token,
    })
    expect(other.statusCode).toBe(404)
  })

  test('a record has an ETag from its content: 304 while unchanged, a new tag once its row changes', async () => {
    const { t, ids, bob } = blog
    const first = await t.request({ method: 'GET', url: url('post_stats', ids.bobDraft) })
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"v[\w-]+"$/)
    const again = await t.request({
      method: 'GET',
      url: url('post_stats', ids.bobDraft),
      headers: { 'if-none-match': etag },
    })
    expect(again.statusCode).toBe(304)
    await seed(t, 'comments', { post: ids.bobDraft, author: bob.id, body: 'more' })
    const changed = await t.request({ method: 'GET', url: url('post_stats', ids.bobDraft) })
    expect(changed.json().comments).toBe(2)
    expect(changed.headers.etag).not.toBe(etag)
  })

  const writes = [
    { name: 'create', method: 'POST' as const, path: () => url('post_stats'), payload: { title: 'x' } },
    {
      name: 'update',
      method: 'PATCH' as const,
      path: (id: string) => url('post_stats', id),
      payload: { title: 'x' },
    },
    { name: 'delete', method: 'DELETE' as const, path: (id: string) => url('post_stats', id) },
  ]
  test.each(writes)('a $name answers 405 with Allow: GET and changes nothing', async (write) => {
    const { t, ids, ann } = blog
    for (const auth of [undefined, ann.token, null]) {
      const response = await t.request({
        method: write.method,
        url: write.path(ids.annDraft!),
        payload: write.payload,
        auth,
      })
      expect(response.statusCode, response.body).toBe(405)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.headers.allow).toBe('GET')
      expect(response.json().detail).toMatch(/read-only/)
    }
    const batch = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: url('posts'), body: { owner: ann.id, title: 'new' } },
          { method: write.method, url: write.path(ids.annDraft!), body: write.payload },
        ],
      },
    })
    expect(batch.statusCode).toBe(400)
    expect(batch.json()).toMatchObject({ failedIndex: 1, failedStatus: 405 })
    expect((await list('')).totalItems).toBe(3)
    const post = await t.request({ method: 'GET', url: url('posts', ids.annDraft) })
    expect(post.json().title).toBe('Ann draft')
  })
})
