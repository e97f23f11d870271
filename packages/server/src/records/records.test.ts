import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createRecord, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const posts = '/api/collections/posts/records'

describe.each(testDialects)('records CRUD on %s', (kind) => {
  let t: TestApp
  let ada: Record<string, any>
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    ;({ ada } = await setupBlog(t))
  })
  afterEach(async () => t?.close())

  test('create answers 201 with Location and a strong ETag, and stores every type', async () => {
    const response = await t.request({
      method: 'POST',
      url: posts,
      payload: {
        title: 'Hello',
        views: 3,
        published: true,
        author: ada.id,
        tags: ['news', 'tech'],
        status: 'live',
        published_at: '2024-05-01T12:00:00+02:00',
        meta: { a: [1, 2] },
        body: '<p>hi<script>alert(1)</script></p>',
        link: 'https://example.com/x',
      },
    })
    expect(response.statusCode).toBe(201)
    const record = response.json()
    expect(response.headers.location).toBe(`/api/collections/posts/records/${record.id}`)
    expect(response.headers.etag).toMatch(/^"[^"]+"$/)
    expect(record).toMatchObject({
      title: 'Hello',
      views: 3,
      published: true,
      author: ada.id,
      tags: ['news', 'tech'],
      status: 'live',
      published_at: '2024-05-01T10:00:00.000Z',
      meta: { a: [1, 2] },
      body: '<p>hi</p>',
      link: 'https://example.com/x',
      collectionName: 'posts',
    })
    expect(record.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(record.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(record.updated).toBe(record.created)
    const view = await t.request({ method: 'GET', url: `${posts}/${record.id}` })
    expect(view.statusCode).toBe(200)
    expect(view.json()).toEqual(record)
    expect(view.headers.etag).toBe(response.headers.etag)
  })

  test('missing optional fields get their empty values', async () => {
    const record = await createRecord(t, 'posts', { title: 'Bare' })
    expect(record).toMatchObject({
      views: 0,
      published: false,
      author: null,
      tags: [],
      status: null,
      published_at: null,
      meta: null,
      body: '',
      link: '',
    })
  })

  test('a client-chosen id is accepted once', async () => {
    const id = '01890a5d-ac96-774b-bcce-b302099a8057'
    expect((await createRecord(t, 'posts', { id, title: 'Mine' })).id).toBe(id)
    const again = await t.request({ method: 'POST', url: posts, payload: { id, title: 'Again' } })
    expect(again.statusCode).toBe(400)
    expect(again.json().errors.id.code).toBe('not_unique')
  })

  const badCreates = [
    { name: 'wrong type', payload: { title: 42 }, field: 'title' },
    { name: 'unknown field', payload: { title: 'x', nope: 1 }, field: 'nope' },
    { name: 'too long', payload: { title: 'x'.repeat(201) }, field: 'title' },
    { name: 'missing required', payload: { views: 1 }, field: 'title' },
    { name: 'blank required', payload: { title: '' }, field: 'title' },
    { name: 'below min', payload: { title: 'x', views: -1 }, field: 'views' },
    { name: 'not an integer', payload: { title: 'x', views: 1.5 }, field: 'views' },
    { name: 'number as string', payload: { title: 'x', views: '3' }, field: 'views' },
    { name: 'bool as string', payload: { title: 'x', published: 'true' }, field: 'published' },
    { name: 'select value not allowed', payload: { title: 'x', status: 'gone' }, field: 'status' },
    {
      name: 'multi select not allowed value',
      payload: { title: 'x', tags: ['news', 'nope'] },
      field: 'tags',
    },
    {
      name: 'too many selected',
      payload: { title: 'x', tags: ['news', 'tech', 'life', 'news'] },
      field: 'tags',
    },
    {
      name: 'dangling relation',
      payload: { title: 'x', author: '01890a5d-ac96-774b-bcce-b302099a8057' },
      field: 'author',
    },
    { name: 'relation not an id', payload: { title: 'x', author: "1' OR '1'='1" }, field: 'author' },
    { name: 'bad date', payload: { title: 'x', published_at: '2024-13-45' }, field: 'published_at' },
    {
      name: 'date without zone',
      payload: { title: 'x', published_at: '2024-05-01T10:00:00' },
      field: 'published_at',
    },
    { name: 'bad url', payload: { title: 'x', link: 'javascript:alert(1)' }, field: 'link' },
    {
      name: 'system field created',
      payload: { title: 'x', created: '2020-01-01T00:00:00Z' },
      field: 'created',
      code: 'read_only',
    },
    {
      name: 'system field updated',
      payload: { title: 'x', updated: '2020-01-01T00:00:00Z' },
      field: 'updated',
      code: 'read_only',
    },
    { name: 'malformed id', payload: { title: 'x', id: 'abc' }, field: 'id' },
    { name: 'array body', payload: [{ title: 'x' }], field: 'body' },
  ]

  test.each(badCreates)('rejects $name with 400 and stores nothing', async ({ payload, field, code }) => {
    const response = await t.request({ method: 'POST', url: posts, payload })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const problem = response.json()
    expect(problem.errors[field].code).toBeTypeOf('string')
    if (code) expect(problem.errors[field].code).toBe(code)
    expect(await countRecords(t, 'posts')).toBe(0)
  })

  test.each([
    { name: 'malformed JSON', payload: '{"title": "x"', type: 'application/json', status: 400 },
    { name: 'a form body', payload: 'title=x', type: 'application/x-www-form-urlencoded', status: 415 },
    {
      name: 'a body over 1 MiB',
      payload: JSON.stringify({ title: 'x', meta: 'y'.repeat(1_100_000) }),
      type: 'application/json',
      status: 413,
    },
    { name: 'JSON null', payload: 'null', type: 'application/json', status: 400 },
  ])('create and update refuse $name and change nothing', async ({ payload, type, status }) => {
    const existing = await t.request({ method: 'POST', url: posts, payload: { title: 'Existing' } })
    for (const [method, url] of [
      ['POST', posts],
      ['PATCH', `${posts}/${existing.json().id}`],
    ] as const) {
      const response = await t.request({ method, url, payload, headers: { 'content-type': type } })
      expect(response.statusCode, `${method} ${response.body}`).toBe(status)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect(await countRecords(t, 'posts')).toBe(1)
    const view = await t.request({ method: 'GET', url: `${posts}/${existing.json().id}` })
    expect(view.headers.etag).toBe(existing.headers.etag)
  })

  test('a duplicate on a unique index is a 400 naming the field', async () => {
    await createRecord(t, 'posts', { title: 'Same' })
    const response = await t.request({ method: 'POST', url: posts, payload: { title: 'Same' } })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.title.code).toBe('not_unique')
    expect(await countRecords(t, 'posts')).toBe(1)
  })

  test('injection strings are stored as plain text', async () => {
    const title = `'; DROP TABLE posts; --"`
    const record = await createRecord(t, 'posts', { title, meta: { q: "' OR 1=1 --" } })
    expect(record.title).toBe(title)
    const list = await t.request({
      method: 'GET',
      url: `${posts}?filter=${encodeURIComponent(`title = "${title.replace(/"/g, '\\"')}"`)}`,
    })
    expect(list.json().items.map((r: any) => r.id)).toEqual([record.id])
  })

  test('update changes the ETag; a stale If-Match is a 412 and changes nothing', async () => {
    const created = await t.request({ method: 'POST', url: posts, payload: { title: 'One', views: 1 } })
    const id = created.json().id
    const firstTag = created.headers.etag as string
    const updated = await t.request({
      method: 'PATCH',
      url: `${posts}/${id}`,
      payload: { views: 2 },
      headers: { 'if-match': firstTag },
    })
    expect(updated.statusCode).toBe(200)
    expect(updated.json().views).toBe(2)
    expect(updated.headers.etag).not.toBe(firstTag)
    expect(updated.json().updated >= created.json().updated).toBe(true)
    for (const stale of [firstTag, '"nope"']) {
      const conflict = await t.request({
        method: 'PATCH',
        url: `${posts}/${id}`,
        payload: { views: 9 },
        headers: { 'if-match': stale },
      })
      expect(conflict.statusCode).toBe(412)
      expect(conflict.json().type).toBe('urn:plinth:error:precondition_failed')
    }
    const star = await t.request({
      method: 'PATCH',
      url: `${posts}/${id}`,
      payload: { views: 5 },
      headers: { 'if-match': '*' },
    })
    expect(star.statusCode).toBe(200)
    const view = await t.request({ method: 'GET', url: `${posts}/${id}` })
    expect(view.json().views).toBe(5)
  })

  test('If-None-Match with the current ETag answers 304', async () => {
    const created = await t.request({ method: 'POST', url: posts, payload: { title: 'Cached' } })
    const response = await t.request({
      method: 'GET',
      url: `${posts}/${created.json().id}`,
      headers: { 'if-none-match': created.headers.etag as string },
    })
    expect(response.statusCode).toBe(304)
  })

  const badUpdates = [
    { name: 'wrong type', payload: { views: 'many' }, field: 'views' },
    { name: 'unknown field', payload: { nope: true }, field: 'nope' },
    { name: 'id change', payload: { id: '01890a5d-ac96-774b-bcce-b302099a8057' }, field: 'id' },
    { name: 'created change', payload: { created: '2020-01-01T00:00:00Z' }, field: 'created' },
    { name: 'required cleared', payload: { title: '' }, field: 'title' },
    { name: 'required nulled', payload: { title: null }, field: 'title' },
  ]

  test.each(badUpdates)('update rejects $name with 400 and changes nothing', async ({ payload, field }) => {
    const created = await t.request({ method: 'POST', url: posts, payload: { title: 'Keep', views: 1 } })
    const response = await t.request({ method: 'PATCH', url: `${posts}/${created.json().id}`, payload })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().errors[field]).toBeDefined()
    const view = await t.request({ method: 'GET', url: `${posts}/${created.json().id}` })
    expect(view.json()).toEqual(created.json())
    expect(view.headers.etag).toBe(created.headers.etag)
  })

  test('unknown ids and unknown collections are 404 on every method', async () => {
    for (const id of ['01890a5d-ac96-774b-bcce-b302099a8057', 'not-an-id', "x' or '1'='1"]) {
      const url = `${posts}/${encodeURIComponent(id)}`
      expect((await t.request({ method: 'GET', url })).statusCode).toBe(404)
      expect((await t.request({ method: 'PATCH', url, payload: { views: 1 } })).statusCode).toBe(404)
      expect((await t.request({ method: 'DELETE', url })).statusCode).toBe(404)
    }
    const unknown = await t.request({ method: 'GET', url: '/api/collections/nope/records' })
    expect(unknown.statusCode).toBe(404)
    expect(unknown.json().type).toBe('urn:plinth:error:not_found')
  })

  test('delete answers 204 and honours If-Match', async () => {
    const created = await t.request({ method: 'POST', url: posts, payload: { title: 'Bye' } })
    const url = `${posts}/${created.json().id}`
    expect((await t.request({ method: 'DELETE', url, headers: { 'if-match': '"stale"' } })).statusCode).toBe(
      412,
    )
    const deleted = await t.request({
      method: 'DELETE',
      url,
      headers: { 'if-match': created.headers.etag as string },
    })
    expect(deleted.statusCode).toBe(204)
    expect(deleted.body).toBe('')
    expect((await t.request({ method: 'GET', url })).statusCode).toBe(404)
  })

  test('hidden fields reach superusers only', async () => {
    const view = await t.request({ method: 'GET', url: `/api/collections/authors/records/${ada.id}` })
    expect(view.json().secret).toBe('s1')
  })

  test('records are superuser-only while the rules are null', async () => {
    for (const [method, url] of [
      ['GET', posts],
      ['POST', posts],
      ['GET', `/api/collections/authors/records/${ada.id}`],
      ['PATCH', `/api/collections/authors/records/${ada.id}`],
      ['DELETE', `/api/collections/authors/records/${ada.id}`],
    ] as const) {
      const response = await t.request({
        method,
        url,
        auth: null,
        ...(method === 'GET' || method === 'DELETE' ? {} : { payload: { name: 'x' } }),
      })
      expect(response.statusCode, `${method} ${url}`).toBe(401)
    }
    expect(await countRecords(t, 'authors')).toBe(2)
  })

  test('change listeners run inside the write transaction', async () => {
    const seen: string[] = []
    t.app.plinth.records.onChange(async (_db, change) => {
      seen.push(`${change.action}:${change.collection.name}`)
      if (change.record.title === 'veto') throw new Error('vetoed by listener')
    })
    await createRecord(t, 'posts', { title: 'fine' })
    const vetoed = await t.request({ method: 'POST', url: posts, payload: { title: 'veto' } })
    expect(vetoed.statusCode).toBe(500)
    expect(seen).toEqual(['create:posts', 'create:posts'])
    expect(await countRecords(t, 'posts')).toBe(1)
  })
})
