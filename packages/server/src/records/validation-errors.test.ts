import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createRecord, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const posts = '/api/collections/posts/records'

describe.each(testDialects)('every field error in one answer on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await setupBlog(t)
  })
  afterEach(async () => t?.close())

  test('a create with four problems in four fields names all four and stores nothing', async () => {
    const response = await t.request({
      method: 'POST',
      url: posts,
      // title (required) is missing.
      payload: { views: 'many', nope: 1, link: 'not a url', published_at: 'yesterday', constructor: 2 },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const { errors } = response.json()
    expect(errors).toMatchObject({
      views: { code: 'invalid_type' },
      nope: { code: 'unknown_field' },
      constructor: { code: 'unknown_field' },
      title: { code: 'required' },
    })
    expect(errors.link.code).toBeTypeOf('string')
    expect(errors.published_at.code).toBeTypeOf('string')
    expect(await countRecords(t, 'posts')).toBe(0)
  })

  test('an update reports a wrong type and a failed constraint together', async () => {
    const post = await createRecord(t, 'posts', { title: 'kept' })
    const response = await t.request({
      method: 'PATCH',
      url: `${posts}/${post.id}`,
      payload: { views: -1, published: 'yes', title: '', link: 'nope' },
    })
    expect(response.statusCode, response.body).toBe(400)
    const { errors } = response.json()
    expect(Object.keys(errors).sort()).toEqual(['link', 'published', 'title', 'views'])
    const read = await t.request({ method: 'GET', url: `${posts}/${post.id}` })
    expect(read.json()).toMatchObject({ title: 'kept', views: 0, published: false, link: '' })
  })

  test('an auth collection reports field and password problems together', async () => {
    const created = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: {
        name: 'users',
        type: 'auth',
        fields: [{ name: 'nick', type: 'text', max: 3 }],
        createRule: '',
      },
    })
    expect(created.statusCode, created.body).toBe(201)
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/users/records',
      auth: null,
      payload: { email: 'not-an-email', nick: 12, password: 'short', passwordConfirm: 'other', extra: true },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(Object.keys(response.json().errors).sort()).toEqual(
      ['email', 'extra', 'nick', 'password', 'passwordConfirm'].sort(),
    )
  })
})
