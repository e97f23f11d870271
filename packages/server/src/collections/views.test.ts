import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, url } from '../test-support/rules-blog.js'
import { exportSchema, parseSchemaFile, planSchemaImport } from './index.js'

const statsQuery =
  'SELECT p.id, p.title, count(c.id) AS comments FROM posts p LEFT JOIN comments c ON c.post = p.id GROUP BY p.id'

const badViews = [
  { name: 'an INSERT', query: "INSERT INTO secrets (id, code) VALUES ('x', 'y')", key: 'viewQuery' },
  { name: 'a DELETE', query: 'DELETE FROM posts', key: 'viewQuery' },
  { name: 'a DROP', query: 'DROP TABLE posts', key: 'viewQuery' },
  { name: 'two statements', query: 'SELECT id FROM posts; DELETE FROM posts', key: 'viewQuery' },
  {
    name: 'a write hidden after a SELECT',
    query: 'SELECT id FROM posts UNION SELECT id FROM (DELETE FROM posts RETURNING id)',
    key: 'viewQuery',
  },
  { name: 'SELECT INTO', query: 'SELECT id INTO copy FROM posts', key: 'viewQuery' },
  { name: 'a comment', query: 'SELECT id FROM posts -- all', key: 'viewQuery' },
  { name: 'a syntax error', query: 'SELECT id FROM posts WHERE', key: 'viewQuery' },
  { name: 'no id column', query: 'SELECT title FROM posts', key: 'viewQuery' },
  { name: 'a missing table', query: 'SELECT id FROM nowhere', key: 'viewQuery' },
  { name: 'a missing column', query: 'SELECT id, colour FROM posts', key: 'viewQuery' },
  { name: 'an unnamed expression', query: 'SELECT id, 1 + 1 FROM posts', key: 'viewQuery' },
  { name: "Plinth's own tables", query: 'SELECT id, password FROM _superusers', key: 'viewQuery' },
  {
    name: 'SQL run from a string',
    query: "SELECT id, query_to_xml('select * from _superusers', true, false, '') AS x FROM posts",
    key: 'viewQuery',
  },
  { name: 'a server function', query: 'SELECT id, pg_sleep(1) AS x FROM posts', key: 'viewQuery' },
  { name: 'no query', query: undefined, key: 'viewQuery' },
  { name: 'a create rule', query: statsQuery, extra: { createRule: '' }, key: 'createRule' },
  { name: 'a delete rule', query: statsQuery, extra: { deleteRule: 'id != ""' }, key: 'deleteRule' },
  { name: 'an index', query: statsQuery, extra: { indexes: [{ fields: ['title'] }] }, key: 'indexes' },
  {
    name: 'a rule on a missing field',
    query: statsQuery,
    extra: { listRule: 'owner = "x"' },
    key: 'listRule',
  },
  {
    name: 'a field type the column cannot hold',
    query: statsQuery,
    extra: { fields: [{ name: 'comments', type: 'bool' }] },
    key: 'fields.comments',
    dialects: ['postgres'],
  },
]

describe.each(testDialects)('view collection definitions on %s', (kind) => {
  let blog: Blog
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    blog = await createBlog(kind)
  })
  afterEach(async () => blog?.t.close())

  const createView = (payload: object) =>
    blog.t.request({ method: 'POST', url: '/api/collections', payload: { type: 'view', ...payload } })
  const state = async () => {
    const collections = (await blog.t.request({ method: 'GET', url: '/api/collections' })).json().items
    return { collections, migrations: (await blog.t.app.plinth.collections.migrations()).length }
  }
  const recordsOf = async (name: string) =>
    (await blog.t.request({ method: 'GET', url: url(name, undefined, '?sort=title') })).json().items

  test.each(badViews)('refuses $name with a 400 and changes nothing', async (bad) => {
    if (bad.dialects && !bad.dialects.includes(kind)) return
    const before = await state()
    const response = await createView({ name: 'bad', viewQuery: bad.query, ...bad.extra })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().errors[bad.key], response.body).toBeDefined()
    expect(await state()).toEqual(before)
    expect((await recordsOf('posts')).length).toBe(3)
    expect((await blog.t.request({ method: 'GET', url: url('bad') })).statusCode).toBe(404)
  })

  test('a collection a view reads cannot be dropped or renamed; its fields can change while the view still runs', async () => {
    const { t } = blog
    expect((await createView({ name: 'stats', viewQuery: statsQuery, listRule: '' })).statusCode).toBe(201)
    const before = await state()
    for (const request of [
      { method: 'DELETE' as const, url: '/api/collections/comments' },
      { method: 'PATCH' as const, url: '/api/collections/posts', payload: { name: 'articles' } },
    ]) {
      const refused = await t.request(request)
      expect(refused.statusCode, refused.body).toBe(400)
      expect(refused.json().detail).toContain('stats')
      expect(refused.json().errors.name.code).toBe('in_use')
    }
    expect(await state()).toEqual(before)

    const posts = (await t.request({ method: 'GET', url: '/api/collections/posts' })).json()
    const userFields = posts.fields.filter((f: any) => !f.system)
    const title = userFields.find((f: any) => f.name === 'title')
    const withoutTitle = userFields.filter((f: any) => f !== title)
    const breaking = await t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: { fields: withoutTitle },
    })
    expect(breaking.statusCode, breaking.body).toBe(400)
    expect(breaking.json().detail).toContain('stats')
    expect(await state()).toEqual(before)

    // On SQLite a changed relation rebuilds the table under the view: a new table, the rows copied.
    const added = await t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: {
        fields: [
          ...userFields.map((f: any) => (f.name === 'owner' ? { ...f, onDelete: 'cascade' } : f)),
          { name: 'subtitle', type: 'text' },
        ],
      },
    })
    expect(added.statusCode, added.body).toBe(200)
    expect((await recordsOf('stats')).map((r: any) => [r.title, r.comments])).toEqual([
      ['Ann draft', 1],
      ['Ann public', 1],
      ['Bob draft', 1],
    ])

    expect((await t.request({ method: 'DELETE', url: '/api/collections/stats' })).statusCode).toBe(204)
    expect((await t.request({ method: 'DELETE', url: '/api/collections/comments' })).statusCode).toBe(204)
  })

  test('changing the query infers the fields again; a type given in fields wins; migrations go down and up', async () => {
    const { t } = blog
    const created = await createView({ name: 'stats', viewQuery: statsQuery, listRule: '' })
    expect(created.statusCode, created.body).toBe(201)
    const titleId = created.json().fields.find((f: any) => f.name === 'title').id
    const before = await state()
    for (const viewQuery of ['DELETE FROM posts', 'SELECT id FROM nowhere', 'SELECT title FROM posts']) {
      const refused = await t.request({
        method: 'PATCH',
        url: '/api/collections/stats',
        payload: { viewQuery },
      })
      expect(refused.statusCode, refused.body).toBe(400)
      expect(refused.json().errors.viewQuery).toBeDefined()
    }
    expect(await state()).toEqual(before)
    expect((await recordsOf('stats')).length).toBe(3)
    const changed = await t.request({
      method: 'PATCH',
      url: '/api/collections/stats',
      payload: {
        viewQuery: 'SELECT p.id, p.title, p.published AS live FROM posts p',
        fields: [
          { name: 'live', type: 'bool', hidden: true },
          { name: 'title', type: 'email' },
        ],
      },
    })
    expect(changed.statusCode, changed.body).toBe(200)
    expect(changed.json().fields.map((f: any) => [f.name, f.type, f.hidden])).toEqual([
      ['id', 'text', undefined],
      ['title', 'email', undefined],
      ['live', 'bool', true],
    ])
    const titleAgain = changed.json().fields.find((f: any) => f.name === 'title')
    expect(titleAgain.id).not.toBe(titleId)
    const inferredAgain = await t.request({
      method: 'PATCH',
      url: '/api/collections/stats',
      payload: { viewQuery: 'SELECT p.id, p.title, p.published AS live, p.published AS shown FROM posts p' },
    })
    expect(inferredAgain.statusCode, inferredAgain.body).toBe(200)
    expect(inferredAgain.json().fields.map((f: any) => [f.name, f.type, f.hidden])).toEqual([
      ['id', 'text', undefined],
      ['title', 'email', undefined],
      ['live', 'bool', true],
      ['shown', 'bool', undefined],
    ])
    const rows = await t.request({
      method: 'GET',
      url: url('stats', undefined, '?filter=live%3Dtrue'),
      auth: null,
    })
    expect(rows.statusCode, rows.body).toBe(400)
    expect((await recordsOf('stats')).map((r: any) => [r.title, r.live])).toEqual([
      ['Ann draft', false],
      ['Ann public', true],
      ['Bob draft', false],
    ])

    await t.app.plinth.collections.migrateDown()
    await t.app.plinth.collections.migrateDown()
    expect((await recordsOf('stats'))[0]).toEqual({
      id: blog.ids.annDraft,
      title: 'Ann draft',
      comments: 1,
      collectionId: created.json().id,
      collectionName: 'stats',
    })
    await t.app.plinth.collections.migrateUp()
    await t.app.plinth.collections.migrateUp()
    expect((await recordsOf('stats'))[0]).toMatchObject({ title: 'Ann draft', live: false, shown: false })
  })

  test('views may read views; relations cannot point at a view', async () => {
    const { t } = blog
    expect((await createView({ name: 'stats', viewQuery: statsQuery, listRule: '' })).statusCode).toBe(201)
    const busy = await createView({
      name: 'busy',
      viewQuery: 'SELECT id, title FROM stats WHERE comments > 0',
      listRule: '',
    })
    expect(busy.statusCode, busy.body).toBe(201)
    const refused = await t.request({ method: 'DELETE', url: '/api/collections/stats' })
    expect(refused.statusCode).toBe(400)
    expect(refused.json().detail).toContain('busy')

    const posts = (await t.request({ method: 'GET', url: '/api/collections/posts' })).json()
    const more = await t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: {
        fields: [...posts.fields.filter((f: any) => !f.system), { name: 'subtitle', type: 'text' }],
      },
    })
    expect(more.statusCode, more.body).toBe(200)
    expect((await recordsOf('busy')).length).toBe(3)

    const pointing = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'pins', fields: [{ name: 'stat', type: 'relation', collection: 'stats' }] },
    })
    expect(pointing.statusCode, pointing.body).toBe(400)
    expect(pointing.json().errors, pointing.body).toHaveProperty(['fields.3.collection'])
  })

  test('the OpenAPI document gives a view only GET operations', async () => {
    expect(
      (await createView({ name: 'stats', viewQuery: statsQuery, listRule: '', viewRule: '' })).statusCode,
    ).toBe(201)
    const document = (await blog.t.request({ method: 'GET', url: '/api/openapi.json' })).json()
    const methods = (path: string) => Object.keys(document.paths[path]).filter((k) => k !== 'parameters')
    expect(methods('/api/collections/stats/records')).toEqual(['get'])
    expect(methods('/api/collections/stats/records/{id}')).toEqual(['get'])
    expect(methods('/api/collections/posts/records')).toEqual(['get', 'post'])
    expect(document.components.schemas.StatsCreate).toBeUndefined()
    const record = document.components.schemas.StatsRecord
    expect(record.properties.id).toEqual({ type: 'string', readOnly: true })
    expect(record.properties.comments.type).toEqual(['number', 'null'])
  })

  test('a schema file carries views: exported, imported into another database, then no differences', async () => {
    const { t } = blog
    const created = await createView({ name: 'stats', viewQuery: statsQuery, listRule: '' })
    expect(created.statusCode, created.body).toBe(201)
    const text = exportSchema(t.app.plinth.collections.list())
    const file = parseSchemaFile(text)
    const entry = file.collections.find((c) => c.name === 'stats')!
    expect(entry).toMatchObject({ type: 'view', viewQuery: statsQuery })

    const other = await createBlog(kind)
    try {
      const service = other.t.app.plinth.collections
      await service.delete('notes')
      const withoutBlog = { ...file, collections: file.collections.filter((c) => c.name !== 'notes') }
      const plan = planSchemaImport(service.list(), withoutBlog, { deleteMissing: true })
      expect(plan.steps.map((s) => s.done)).toEqual(['Created view stats.'])
      for (const step of plan.steps) if (step.action === 'create') await service.create(step.input)
      expect(planSchemaImport(service.list(), withoutBlog).steps).toEqual([])
      const rows = await other.t.request({ method: 'GET', url: url('stats', undefined, '?sort=title') })
      expect(rows.json().items.map((r: any) => r.comments)).toEqual([1, 1, 1])
      const again = planSchemaImport(
        service.list(),
        { ...withoutBlog, collections: [] },
        { deleteMissing: true },
      )
      expect(again.steps[0]).toMatchObject({ action: 'delete', collection: 'stats' })
    } finally {
      await other.t.close()
    }
  })
})
