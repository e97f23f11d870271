import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, seed, url } from '../test-support/rules-blog.js'

// A read by id under a rule that reads only the caller keeps its compiled statement for
// that caller; these tests read again after whatever could change the answer.
describe.each(testDialects)('repeated reads by id on %s', (kind) => {
  let blog: Blog
  let annNote: string
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    blog = await createBlog(kind)
    annNote = await seed(blog.t, 'notes', { owner: blog.ann.id, text: 'ann only' })
  })
  afterAll(async () => blog?.t.close())
  afterEach(() => {
    vi.useRealTimers()
  })
  const skipIfNoDatabase = (context: { skip: (reason: string) => void }) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  }
  const view = (id: string, auth: string | null) =>
    blog.t.request({ method: 'GET', url: url('notes', id), auth })
  const setRule = async (viewRule: string | null) => {
    const changed = await blog.t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { viewRule },
    })
    expect(changed.statusCode, changed.body).toBe(200)
  }

  test('each caller reads under their own identity', async (context) => {
    skipIfNoDatabase(context)
    await setRule('owner = @request.auth.id')
    const bobNote = await seed(blog.t, 'notes', { owner: blog.bob.id, text: 'bob only' })
    for (let round = 0; round < 2; round++) {
      expect((await view(annNote, blog.ann.token)).statusCode).toBe(200)
      expect((await view(annNote, blog.bob.token)).statusCode).toBe(404)
      expect((await view(bobNote, blog.bob.token)).statusCode).toBe(200)
      expect((await view(bobNote, blog.ann.token)).statusCode).toBe(404)
      expect((await view(annNote, null)).statusCode).toBe(404)
    }
  })

  test('the same caller reads other ids with the same statement, and only those it may', async (context) => {
    skipIfNoDatabase(context)
    await setRule('owner = @request.auth.id')
    const second = await seed(blog.t, 'notes', { owner: blog.ann.id, text: 'ann again' })
    expect((await view(annNote, blog.ann.token)).json().text).toBe('ann only')
    expect((await view(second, blog.ann.token)).json().text).toBe('ann again')
    expect((await view('0'.repeat(15), blog.ann.token)).statusCode).toBe(404)
  })

  test('a rule change applies to the very next read', async (context) => {
    skipIfNoDatabase(context)
    await setRule('owner = @request.auth.id')
    expect((await view(annNote, blog.bob.token)).statusCode).toBe(404)
    await setRule('')
    expect((await view(annNote, blog.bob.token)).statusCode).toBe(200)
    await setRule(null)
    expect((await view(annNote, blog.bob.token)).statusCode).toBe(403)
    expect((await view(annNote, null)).statusCode).toBe(401)
  })

  test('a change to the caller record reaches the rule once its token is checked again', async (context) => {
    skipIfNoDatabase(context)
    await setRule('owner = @request.auth.id || @request.auth.name = "boss"')
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
    expect((await view(annNote, blog.bob.token)).statusCode).toBe(404)
    const promoted = await blog.t.request({
      method: 'PATCH',
      url: url('users', blog.bob.id),
      payload: { name: 'boss' },
    })
    expect(promoted.statusCode, promoted.body).toBe(200)
    vi.setSystemTime(Date.now() + 1000)
    expect((await view(annNote, blog.bob.token)).statusCode).toBe(200)
  })

  test('rules that read the clock or the query string are compiled for every read', async (context) => {
    skipIfNoDatabase(context)
    await setRule('owner = @request.auth.id && @request.query.fields = "id,text"')
    const withFields = (fields: string) =>
      blog.t.request({ method: 'GET', url: url('notes', annNote, `?fields=${fields}`), auth: blog.ann.token })
    expect((await withFields('id,text')).statusCode).toBe(200)
    expect((await withFields('id')).statusCode).toBe(404)
    expect((await withFields('id,text')).statusCode).toBe(200)
    await setRule('owner = @request.auth.id && created < @now')
    expect((await view(annNote, blog.ann.token)).statusCode).toBe(200)
  })
  test('a closed collection answers the same whatever fields are asked for', async (context) => {
    skipIfNoDatabase(context)
    await setRule(null)
    const withFields = (fields: string, auth: string | null) =>
      blog.t.request({ method: 'GET', url: url('notes', annNote, `?fields=${fields}`), auth })
    for (const fields of ['text', 'no_such_field']) {
      expect((await withFields(fields, null)).statusCode, fields).toBe(401)
      expect((await withFields(fields, blog.bob.token)).statusCode, fields).toBe(403)
    }
    await setRule('')
  })
})
