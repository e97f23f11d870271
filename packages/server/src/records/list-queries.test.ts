import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, seed, url } from '../test-support/rules-blog.js'

// Lists whose SQL the request's text alone decides are compiled once and kept; these
// tests ask the same list again after whatever could change its answer.
describe.each(testDialects)('repeated lists on %s', (kind) => {
  let blog: Blog
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    blog = await createBlog(kind)
  })
  afterAll(async () => blog?.t.close())
  afterEach(() => {
    vi.useRealTimers()
  })
  const skipIfNoDatabase = (context: { skip: (reason: string) => void }) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  }
  const notes = async (query: string, auth: string | null) => {
    const response = await blog.t.request({ method: 'GET', url: url('notes', undefined, query), auth })
    return response
  }
  const texts = (response: { json(): any }) =>
    response
      .json()
      .items.map((r: any) => r.text)
      .sort()

  test('rows written after a list show in the same list asked again', async (context) => {
    skipIfNoDatabase(context)
    const query = '?filter=text%3D%22repeat%20me%22&sort=-created'
    const before = await notes(query, null)
    expect(before.statusCode, before.body).toBe(200)
    const count = before.json().totalItems
    await seed(blog.t, 'notes', { owner: blog.ann.id, text: 'repeat me' })
    const after = await notes(query, null)
    expect(after.json().totalItems).toBe(count + 1)
    expect(after.json().items.every((r: any) => r.text === 'repeat me')).toBe(true)
  })

  test('a rule change applies to the very next identical list', async (context) => {
    skipIfNoDatabase(context)
    await seed(blog.t, 'notes', { owner: blog.bob.id, text: 'rule target' })
    const query = '?filter=text%3D%22rule%20target%22'
    expect((await notes(query, null)).json().totalItems).toBeGreaterThan(0)
    const closed = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { listRule: 'text != "rule target"' },
    })
    expect(closed.statusCode, closed.body).toBe(200)
    expect((await notes(query, null)).json().totalItems).toBe(0)
    const locked = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { listRule: null },
    })
    expect(locked.statusCode, locked.body).toBe(200)
    expect((await notes(query, null)).statusCode).toBe(401)
    await blog.t.request({ method: 'PATCH', url: '/api/collections/notes', payload: { listRule: '' } })
    expect((await notes(query, null)).json().totalItems).toBeGreaterThan(0)
  })

  test('a hidden field stays unfilterable for others whoever asked first', async (context) => {
    skipIfNoDatabase(context)
    const query = '?filter=internal%3D%22x%22'
    expect((await notes(query, blog.t.token)).statusCode).toBe(200)
    expect((await notes(query, null)).statusCode).toBe(400)
    expect((await notes(query, blog.ann.token)).statusCode).toBe(400)
    expect((await notes(query, blog.t.token)).statusCode).toBe(200)
  })

  test('a rule that reads the caller answers each caller with their own rows', async (context) => {
    skipIfNoDatabase(context)
    const changed = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { listRule: 'owner = @request.auth.id' },
    })
    expect(changed.statusCode, changed.body).toBe(200)
    await seed(blog.t, 'notes', { owner: blog.ann.id, text: 'only ann' })
    await seed(blog.t, 'notes', { owner: blog.bob.id, text: 'only bob' })
    const query = '?filter=text~%22only%22'
    expect(texts(await notes(query, blog.ann.token))).toEqual(['only ann'])
    expect(texts(await notes(query, blog.bob.token))).toEqual(['only bob'])
    expect(texts(await notes(query, null))).toEqual([])
    await blog.t.request({ method: 'PATCH', url: '/api/collections/notes', payload: { listRule: '' } })
  })

  test('a new field shows in the next identical list', async (context) => {
    skipIfNoDatabase(context)
    const query = '?filter=text%3D%22schema%22'
    await seed(blog.t, 'notes', { owner: blog.ann.id, text: 'schema' })
    expect(Object.keys((await notes(query, null)).json().items[0])).not.toContain('mood')
    const collection = (await blog.t.request({ method: 'GET', url: '/api/collections/notes' })).json()
    const changed = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { fields: [...collection.fields, { name: 'mood', type: 'text' }] },
    })
    expect(changed.statusCode, changed.body).toBe(200)
    expect((await notes(query, null)).json().items[0]).toMatchObject({ text: 'schema', mood: '' })
  })
  test("a change to the caller's record reaches the rule once its token is checked again", async (context) => {
    skipIfNoDatabase(context)
    const changed = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { listRule: 'owner = @request.auth.id || @request.auth.name = "boss"' },
    })
    expect(changed.statusCode, changed.body).toBe(200)
    await seed(blog.t, 'notes', { owner: blog.ann.id, text: 'for the boss' })
    const query = '?filter=text%3D%22for%20the%20boss%22'
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
    expect((await notes(query, blog.bob.token)).json().totalItems).toBe(0)
    const promoted = await blog.t.request({
      method: 'PATCH',
      url: url('users', blog.bob.id),
      payload: { name: 'boss' },
    })
    expect(promoted.statusCode, promoted.body).toBe(200)
    vi.setSystemTime(Date.now() + 1000)
    expect((await notes(query, blog.bob.token)).json().totalItems).toBe(1)
    await blog.t.request({ method: 'PATCH', url: url('users', blog.bob.id), payload: { name: 'bob' } })
    await blog.t.request({ method: 'PATCH', url: '/api/collections/notes', payload: { listRule: '' } })
  })

  test("a filter through a relation follows a change of the target's view rule", async (context) => {
    skipIfNoDatabase(context)
    const comments = (auth: string | null) =>
      blog.t.request({
        method: 'GET',
        url: url('comments', undefined, `?filter=${encodeURIComponent('post.title ~ "draft"')}`),
        auth,
      })
    const before = (await comments(blog.bob.token)).json().items.map((c: any) => c.id)
    expect(before).not.toContain(blog.ids.onAnnDraft)
    const opened = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: { viewRule: '' },
    })
    expect(opened.statusCode, opened.body).toBe(200)
    const commentsOpened = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/comments',
      payload: { listRule: '' },
    })
    expect(commentsOpened.statusCode, commentsOpened.body).toBe(200)
    expect((await comments(blog.bob.token)).json().items.map((c: any) => c.id)).toContain(blog.ids.onAnnDraft)
    await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: { viewRule: 'published = true || owner = @request.auth.id' },
    })
    expect((await comments(blog.bob.token)).json().items.map((c: any) => c.id)).not.toContain(
      blog.ids.onAnnDraft,
    )
  })

  test('rules that read the query string are compiled for every list', async (context) => {
    skipIfNoDatabase(context)
    const changed = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { listRule: '@request.query.fields = "id,text"' },
    })
    expect(changed.statusCode, changed.body).toBe(200)
    const withFields = (fields: string) =>
      notes(`?fields=${fields}&filter=text%3D%22schema%22`, blog.ann.token)
    expect((await withFields('id,text')).json().totalItems).toBeGreaterThan(0)
    expect((await withFields('id')).json().totalItems).toBe(0)
    expect((await withFields('id,text')).json().totalItems).toBeGreaterThan(0)
    await blog.t.request({ method: 'PATCH', url: '/api/collections/notes', payload: { listRule: '' } })
  })
  test("a filter through a relation follows the clock in the target's view rule", async (context) => {
    skipIfNoDatabase(context)
    const start = Date.now()
    vi.useFakeTimers({ toFake: ['Date'], now: start })
    const until = new Date(start + 60_000).toISOString()
    const embargo = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: { viewRule: `published = true && @now < "${until}"` },
    })
    expect(embargo.statusCode, embargo.body).toBe(200)
    await blog.t.request({ method: 'PATCH', url: '/api/collections/comments', payload: { listRule: '' } })
    const comments = async () => {
      const response = await blog.t.request({
        method: 'GET',
        url: url('comments', undefined, `?filter=${encodeURIComponent('post.title ~ "public"')}`),
        auth: null,
      })
      expect(response.statusCode, response.body).toBe(200)
      return response.json().items.map((c: any) => c.id)
    }
    expect(await comments()).toContain(blog.ids.onPublic)
    vi.setSystemTime(start + 120_000)
    expect(await comments()).not.toContain(blog.ids.onPublic)
    await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: { viewRule: 'published = true || owner = @request.auth.id' },
    })
  })
})
