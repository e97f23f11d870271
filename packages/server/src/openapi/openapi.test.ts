import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { authorsDefinition, createCollection, createRecord, postsDefinition } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import {
  type Doc,
  documentOf,
  expectValidDocument,
  METHODS,
  registeredRoutes,
  schemaValidator,
} from '../test-support/openapi-document.js'

/** posts are readable by everyone; authors (all rules null) by superusers only. */
const publicPosts = {
  ...postsDefinition,
  fields: [
    ...postsDefinition.fields,
    { name: 'reviewers', type: 'relation', collection: 'authors', maxSelect: 5 },
    { name: 'notes', type: 'text', hidden: true },
    { name: 'edited', type: 'autodate', onUpdate: true },
  ],
  listRule: '',
  viewRule: '',
}

const members = {
  name: 'members',
  type: 'auth',
  fields: [{ name: 'nickname', type: 'text', max: 50 }],
  createRule: '',
  viewRule: 'id = @request.auth.id',
}

describe.each(testDialects)('OpenAPI document on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, authorsDefinition)
    await createCollection(t, publicPosts)
    await createCollection(t, members)
  })
  afterEach(async () => t?.close())

  test('is a valid OpenAPI 3.1 document with typed paths per collection', async () => {
    const doc = await documentOf(t)
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info).toMatchObject({ title: 'Plinth', version: expect.any(String) })
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    await expectValidDocument(doc)
    for (const [name, base] of [
      ['posts', 'Posts'],
      ['authors', 'Authors'],
      ['members', 'Members'],
      ['_superusers', 'Superusers'],
    ]) {
      const records = doc.paths[`/api/collections/${name}/records`]
      expect(records.get.operationId).toBe(`list${base}`)
      expect(records.post.operationId).toBe(`create${base}`)
      expect(Object.keys(doc.paths[`/api/collections/${name}/records/{id}`])).toEqual(
        expect.arrayContaining(['get', 'patch', 'delete']),
      )
      for (const suffix of ['Record', 'Create', 'Update', 'List'])
        expect(doc.components.schemas[`${base}${suffix}`]).toBeDefined()
    }
    for (const path of [
      '/api/health',
      '/api/health/ready',
      '/api/collections',
      '/api/collections/{name}',
      '/api/batch',
      '/api/setup',
      '/api/collections/_superusers/auth-with-password',
      '/api/collections/members/auth-with-password',
    ])
      expect(doc.paths[path], path).toBeDefined()
  })

  test('describes every route of the public API, with its methods, and nothing else', async () => {
    // Pages for browsers (the admin app at /_ and below), and the document with its own reference UI, are not part of the API.
    const outside = /^\/_(\/|\*|$)|^\/api\/docs(\/|$)|^\/api\/openapi\.json$/
    const served = registeredRoutes(t.app)
      .filter(({ method, path }) => method !== 'HEAD' && !outside.test(path))
      .map(({ method, path }) => `${method} ${path.replace(/:[^/]+/g, '{}')}`)

    // Collection paths are described per collection: those of members stand for every auth collection.
    const doc = await documentOf(t)
    const described = Object.entries(doc.paths as Doc)
      .filter(([path]) => !/^\/api\/collections\/(?!members\/|\{)[^/]+\//.test(path))
      .flatMap(([path, item]) =>
        METHODS.filter((method) => item[method]).map(
          (method) =>
            `${method.toUpperCase()} ${path.replace('/collections/members/', '/collections/{}/').replace(/\{[^}]+\}/g, '{}')}`,
        ),
      )
    expect(served).toContain('POST /api/collections/{}/auth-with-password')
    expect(served.length).toBeGreaterThan(50)
    expect(served.filter((route) => !described.includes(route))).toEqual([])
    expect(described.filter((route) => !served.includes(route))).toEqual([])
  })

  test('describes statuses, headers and parameters of the records API', async () => {
    const doc = await documentOf(t)
    const list = doc.paths['/api/collections/posts/records'].get
    const names = list.parameters.map((p: Doc) => doc.components.parameters[p.$ref.split('/').pop()].name)
    expect(names).toEqual(['filter', 'sort', 'page', 'perPage', 'fields', 'expand', 'skipTotal'])
    expect(doc.components.parameters.PerPage.schema).toMatchObject({ default: 30, maximum: 1000 })

    const create = doc.paths['/api/collections/posts/records'].post
    expect(Object.keys(create.responses['201'].headers)).toEqual(['Location', 'ETag'])
    expect(Object.keys(create.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '403', '409', '413', '415', '422', '429']),
    )
    const item = doc.paths['/api/collections/posts/records/{id}']
    expect(item.get.responses['304']).toBeDefined()
    expect(Object.keys(item.patch.responses)).toEqual(expect.arrayContaining(['200', '404', '412']))
    expect(item.delete.responses['204']).toBeDefined()
    for (const operation of [create, item.patch, item.delete])
      expect(operation.parameters).toContainEqual({ $ref: '#/components/parameters/IdempotencyKey' })
    expect(item.patch.parameters).toContainEqual({ $ref: '#/components/parameters/IfMatch' })
    const problem = doc.components.responses.PreconditionFailed.content['application/problem+json']
    expect(problem.schema).toEqual({ $ref: '#/components/schemas/Problem' })
    expect(doc.components.schemas.Problem.properties).toHaveProperty('failedIndex')
    expect(doc.components.schemas.BatchRequest.properties.requests.maxItems).toBe(100)
  })

  test('gives every field its JSON type and keeps hidden fields out of records', async () => {
    const { components } = await documentOf(t)
    const post = components.schemas.PostsRecord.properties
    expect(post.id).toMatchObject({ type: 'string', format: 'uuid' })
    expect(post.created).toMatchObject({ type: 'string', format: 'date-time' })
    expect(post.title).toEqual({ type: 'string' })
    expect(post.views).toEqual({ type: 'integer', minimum: 0 })
    expect(post.published).toEqual({ type: 'boolean' })
    expect(post.author).toMatchObject({ type: ['string', 'null'], format: 'uuid' })
    expect(post.reviewers).toMatchObject({ type: 'array', items: { type: 'string', format: 'uuid' } })
    expect(post.tags).toMatchObject({ type: 'array', items: { enum: ['news', 'tech', 'life'] } })
    expect(post.status).toEqual({ type: ['string', 'null'], enum: ['draft', 'live', null] })
    expect(post.published_at).toEqual({ type: ['string', 'null'], format: 'date-time' })
    expect(post.edited).toMatchObject({ type: ['string', 'null'], format: 'date-time', readOnly: true })
    expect(post.meta.type).toBeUndefined()
    expect(post.link.anyOf[0]).toEqual({ type: 'string', format: 'uri' })
    expect(post.collectionName).toEqual({ type: 'string', const: 'posts' })
    const posts = await t.request({ method: 'GET', url: '/api/collections/posts' })
    expect(post.collectionId).toEqual({ type: 'string', const: posts.json().id })
    expect(components.schemas.PostsRecord.required).toEqual(
      expect.arrayContaining(['collectionId', 'collectionName']),
    )
    expect(post.expand.properties.author).toEqual({ $ref: '#/components/schemas/AuthorsRecord' })
    expect(post.expand.properties.reviewers.items).toEqual({ $ref: '#/components/schemas/AuthorsRecord' })
    expect(post).not.toHaveProperty('notes')
    expect(components.schemas.AuthorsRecord.properties).not.toHaveProperty('secret')

    const create = components.schemas.PostsCreate
    expect(create.additionalProperties).toBe(false)
    expect(create.required).toEqual(['title'])
    expect(create.properties.id).toMatchObject({ format: 'uuid' })
    for (const readOnly of ['created', 'updated', 'edited'])
      expect(create.properties).not.toHaveProperty(readOnly)
    expect(create.properties.title).toEqual({ type: 'string', minLength: 1, maxLength: 200 })
    expect(create.properties.views).toEqual({ type: ['integer', 'null'], minimum: 0 })
    expect(create.properties.tags).toMatchObject({ type: ['array', 'null'], maxItems: 3 })
    expect(create.properties.author).toMatchObject({ type: ['string', 'null'], format: 'uuid' })
    expect(components.schemas.PostsUpdate.properties).not.toHaveProperty('id')
    expect(components.schemas.PostsUpdate).not.toHaveProperty('required')

    const member = components.schemas.MembersRecord
    expect(Object.keys(member.properties)).toEqual(
      expect.arrayContaining(['email', 'emailVisibility', 'verified', 'nickname']),
    )
    expect(member.properties).not.toHaveProperty('password')
    expect(member.properties).not.toHaveProperty('tokenKey')
    expect(member.required).not.toContain('email')
    const signUp = components.schemas.MembersCreate
    expect(signUp.required).toEqual(expect.arrayContaining(['email', 'password', 'passwordConfirm']))
    expect(signUp.properties.password).toMatchObject({ minLength: 8, writeOnly: true })
    expect(signUp.properties).not.toHaveProperty('tokenKey')
    expect(components.schemas.MembersUpdate.properties).not.toHaveProperty('email')
  })

  test('matches the records and bodies the server really exchanges', async () => {
    const doc = await documentOf(t)
    const check = schemaValidator(doc)
    const ada = await createRecord(t, 'authors', { name: 'Ada', email: 'ada@example.com', secret: 's' })
    const body = {
      title: 'Hello',
      views: 3,
      author: ada.id,
      reviewers: [ada.id],
      tags: ['news'],
      status: 'live',
      published_at: '2024-05-01T10:00:00.000Z',
      meta: { a: [1] },
      link: 'https://example.com/a',
    }
    expect(check('PostsCreate', body)).toEqual({ isValid: true, errors: 'No errors' })
    const post = await createRecord(t, 'posts', body)
    await createRecord(t, 'posts', { title: 'Empty' })

    const view = await t.request({
      method: 'GET',
      url: `/api/collections/posts/records/${post.id}?expand=author`,
    })
    expect(check('PostsRecord', view.json())).toEqual({ isValid: true, errors: 'No errors' })
    const list = await t.request({ method: 'GET', url: '/api/collections/posts/records', auth: null })
    expect(list.json().items).toHaveLength(2)
    expect(check('PostsList', list.json())).toEqual({ isValid: true, errors: 'No errors' })
    const skipped = await t.request({ method: 'GET', url: '/api/collections/posts/records?skipTotal=1' })
    expect(check('PostsList', skipped.json()).isValid).toBe(true)

    const signUp = await t.request({
      method: 'POST',
      url: '/api/collections/members/records',
      auth: null,
      payload: { email: 'm@example.com', password: 'long enough 1', passwordConfirm: 'long enough 1' },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
    expect(check('MembersRecord', signUp.json())).toEqual({ isValid: true, errors: 'No errors' })

    const refused = { title: 'x', nope: 1 }
    expect(check('PostsCreate', refused).isValid).toBe(false)
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/posts/records',
      payload: refused,
    })
    expect(response.statusCode).toBe(400)
    expect(check('Problem', response.json())).toEqual({ isValid: true, errors: 'No errors' })
  })

  test('is generated from the live collections', async () => {
    expect((await documentOf(t)).paths).not.toHaveProperty('/api/collections/notes/records')
    await createCollection(t, { name: 'notes', fields: [{ name: 'text', type: 'text' }], listRule: '' })
    const withNotes = await documentOf(t)
    expect(withNotes.paths).toHaveProperty('/api/collections/notes/records')
    expect(withNotes.components.schemas.NotesRecord.properties.text).toEqual({ type: 'string' })

    const renamed = await t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { name: 'memos' },
    })
    expect(renamed.statusCode, renamed.body).toBe(200)
    const afterRename = await documentOf(t)
    expect(afterRename.paths).not.toHaveProperty('/api/collections/notes/records')
    expect(afterRename.components.schemas).toHaveProperty('MemosRecord')

    const removed = await t.request({ method: 'DELETE', url: '/api/collections/memos' })
    expect(removed.statusCode).toBe(204)
    const afterDelete = await documentOf(t)
    expect(afterDelete.paths).not.toHaveProperty('/api/collections/memos/records')
    expect(afterDelete.components.schemas).not.toHaveProperty('MemosRecord')
  })

  test('shows anonymous callers no superuser-only collection', async () => {
    const doc = await documentOf(t, null)
    await expectValidDocument(doc)
    expect(doc.paths).toHaveProperty('/api/collections/posts/records')
    expect(doc.paths).toHaveProperty('/api/collections/members/records')
    expect(doc.paths).not.toHaveProperty('/api/collections/authors/records')
    expect(doc.paths).not.toHaveProperty('/api/collections/_superusers/records')
    expect(doc.paths).toHaveProperty('/api/collections/_superusers/auth-with-password')
    // TotpSetup and WebhookCreated have a property of their own called secret.
    const { TotpSetup: _, WebhookCreated: __, ...schemas } = doc.components.schemas
    expect(JSON.stringify({ ...doc, components: { schemas } })).not.toMatch(
      /authors|Authors|"secret"|"notes"/,
    )
    const post = doc.components.schemas.PostsRecord.properties
    expect(post.expand.properties.author).toMatchObject({ type: 'object' })
    // Writable, but only superusers are told about hidden fields and `verified`.
    expect(doc.components.schemas.PostsCreate.properties).not.toHaveProperty('notes')
    expect(doc.components.schemas.MembersCreate.properties).not.toHaveProperty('verified')
    const superuser = await documentOf(t)
    expect(superuser.components.schemas.PostsCreate.properties).toHaveProperty('notes')
    expect(superuser.components.schemas.MembersCreate.properties).toHaveProperty('verified')
    expect(superuser.paths['/api/collections/authors/records'].get.security).toEqual([
      { bearerAuth: [] },
      { cookieAuth: [] },
    ])
    expect(superuser.paths['/api/collections/authors/records'].post.security).toEqual([
      { bearerAuth: [] },
      { cookieAuth: [], csrfToken: [] },
    ])
  })

  test('gives clashing collection names distinct, valid component names', async () => {
    for (const name of ['my_posts', 'myPosts', 'superusers', 'collection', 'auth'])
      await createCollection(t, { name, fields: [{ name: 'x', type: 'text' }], listRule: '' })
    const doc = await documentOf(t)
    await expectValidDocument(doc)
    const listOf = (name: string) => doc.paths[`/api/collections/${name}/records`].get.operationId
    expect(listOf('my_posts')).toBe('listMyPosts')
    expect(listOf('myPosts')).toBe('listMyPosts_2')
    expect(listOf('_superusers')).toBe('listSuperusers')
    expect(listOf('superusers')).toBe('listSuperusers_2')
    expect(doc.paths['/api/collections/collection/records'].post.operationId).toBe('createCollection_2')
    expect(doc.components.schemas.AuthRecord.description).toMatch(/signed-in/)
    expect(doc.components.schemas.Auth_2Record.properties.x).toEqual({ type: 'string' })
  })
})

describe.each(testDialects)('API reference UI on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())

  test('serves a page whose assets all answer with their content types', async () => {
    const page = await t.request({ method: 'GET', url: '/api/docs', auth: null })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.body).not.toMatch(/<script>/)
    const urls = [...page.body.matchAll(/(?:href|src)="(docs\/[^"]+)"/g)].map((m) => `/api/${m[1]}`)
    const types: Record<string, string> = {
      'swagger-ui.css': 'text/css',
      'swagger-ui-bundle.js': 'text/javascript',
      'swagger-initializer.js': 'text/javascript',
      'favicon-32x32.png': 'image/png',
    }
    expect(urls.map((url) => url.split('/').pop()!.split('?')[0])).toEqual(
      expect.arrayContaining(Object.keys(types)),
    )
    for (const url of urls) {
      const asset = await t.request({ method: 'GET', url, auth: null })
      expect(asset.statusCode, url).toBe(200)
      expect(asset.headers['content-type']).toContain(types[url.split('/').pop()!.split('?')[0]!])
      expect(asset.headers['cache-control']).toContain('immutable')
      const again = await t.request({
        method: 'GET',
        url,
        auth: null,
        headers: { 'if-none-match': String(asset.headers.etag) },
      })
      expect(again.statusCode).toBe(304)
    }
    const init = await t.request({ method: 'GET', url: '/api/docs/swagger-initializer.js', auth: null })
    expect(init.body).toContain("url: 'openapi.json'")
  })

  test('sends /api/docs/ to the page, whose relative URLs need the path without the slash', async () => {
    const response = await t.request({ method: 'GET', url: '/api/docs/', auth: null })
    expect(response.statusCode).toBe(301)
    expect(new URL(String(response.headers.location), 'http://x/api/docs/').pathname).toBe('/api/docs')
  })

  test.each([
    '/api/docs/nope.js',
    '/api/docs/package.json',
    '/api/docs/..%2F..%2Fpackage.json',
    '/api/docs/swagger-ui.js.map',
  ])('answers 404 problem+json for %s', async (url) => {
    const response = await t.request({ method: 'GET', url, auth: null })
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({ status: 404, instance: expect.any(String) })
  })
})
