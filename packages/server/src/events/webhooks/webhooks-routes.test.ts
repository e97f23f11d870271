import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../../test-support/accounts.js'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { createCollection } from '../../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'

const MISSING = '0190a6e4-0000-7000-8000-000000000000'
const valid = { url: 'https://hooks.example.com/plinth', collections: ['posts'], actions: ['create'] }

const badBodies: Array<{ name: string; payload: unknown; field?: string }> = [
  { name: 'a url that is a number', payload: { ...valid, url: 42 } },
  { name: 'collections that are a string', payload: { ...valid, collections: 'posts' } },
  { name: 'an unknown action', payload: { ...valid, actions: ['explode'] } },
  { name: 'no actions', payload: { ...valid, actions: [] } },
  { name: 'an action twice', payload: { ...valid, actions: ['create', 'create'] }, field: 'actions' },
  { name: 'no collections', payload: { ...valid, collections: [] } },
  { name: 'a filter that is a number', payload: { ...valid, filter: 7 } },
  { name: 'an unknown field', payload: { ...valid, events: ['*'] } },
  { name: 'a secret chosen by the caller', payload: { ...valid, secret: 'whsec_AAAA' } },
  { name: 'a missing url', payload: { collections: ['posts'], actions: ['create'] } },
  { name: 'an array body', payload: [valid] },
  { name: 'an unknown collection', payload: { ...valid, collections: ['nope'] }, field: 'collections' },
  {
    name: 'a collection name with SQL',
    payload: { ...valid, collections: ['posts"; drop table _webhooks; --'] },
    field: 'collections',
  },
  { name: 'a __proto__ collection', payload: { ...valid, collections: ['__proto__'] }, field: 'collections' },
  {
    name: 'a constructor collection',
    payload: { ...valid, collections: ['constructor'] },
    field: 'collections',
  },
  {
    name: 'a collection twice',
    payload: { ...valid, collections: ['posts', 'posts'] },
    field: 'collections',
  },
  { name: 'a filter that does not parse', payload: { ...valid, filter: 'title = ' }, field: 'filter' },
  { name: 'a filter on an unknown field', payload: { ...valid, filter: 'nope = 1' }, field: 'filter' },
  {
    name: 'a filter with SQL',
    payload: { ...valid, filter: `title = "x" || 1=1; drop table posts; --` },
    field: 'filter',
  },
  {
    name: 'a filter on a related record',
    payload: { ...valid, filter: 'author.name = "Ada"' },
    field: 'filter',
  },
  {
    name: 'a filter on the request',
    payload: { ...valid, filter: '@request.auth.id != ""' },
    field: 'filter',
  },
  { name: 'a filter naming __proto__', payload: { ...valid, filter: '__proto__ = 1' }, field: 'filter' },
  { name: 'a url that is not one', payload: { ...valid, url: 'not a url' }, field: 'url' },
  { name: 'an ftp url', payload: { ...valid, url: 'ftp://hooks.example.com/' }, field: 'url' },
  { name: 'a javascript url', payload: { ...valid, url: 'javascript:alert(1)' }, field: 'url' },
  { name: 'a file url', payload: { ...valid, url: 'file:///etc/passwd' }, field: 'url' },
  {
    name: 'a url with credentials',
    payload: { ...valid, url: 'https://user:pw@hooks.example.com/' },
    field: 'url',
  },
  { name: 'a url too long', payload: { ...valid, url: `https://hooks.example.com/${'a'.repeat(3000)}` } },
]

/** Literal private targets are refused when the webhook is registered; names are checked when it is called. */
const privateUrls = [
  'http://127.0.0.1/hook',
  'http://127.9.9.9:8080/hook',
  'http://10.0.0.5/hook',
  'http://172.16.3.4/hook',
  'http://192.168.1.1/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://0.0.0.0/hook',
  'http://[::1]/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[fd00:ec2::254]/hook',
  'http://[fe80::1]/hook',
  'http://2130706433/hook',
  'http://0x7f.1/hook',
]

const badIds = ['not-a-uuid', '__proto__', 'constructor', 'prototype', `${MISSING}x`, "1' or '1'='1"]

describe.each(testDialects)('/api/webhooks on %s', (kind) => {
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'posts',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'author', type: 'relation', collection: 'posts', maxSelect: 1 },
      ],
    })
  })
  afterEach(async () => t?.close())

  const create = (payload: unknown) =>
    t.request({ method: 'POST', url: '/api/webhooks', payload: payload as object })
  const count = async () => (await t.request({ method: 'GET', url: '/api/webhooks' })).json().items.length

  function expectProblem(response: { statusCode: number; headers: Record<string, unknown> }, status: number) {
    expect(response.statusCode).toBe(status)
    expect(response.headers['content-type']).toContain('application/problem+json')
  }

  test('registers, shows, changes and removes an endpoint; the secret is shown once', async () => {
    const created = await create({ ...valid, actions: ['create', 'delete'], filter: 'title != "draft"' })
    expect(created.statusCode, created.body).toBe(201)
    const hook = created.json()
    expect(created.headers.location).toBe(`/api/webhooks/${hook.id}`)
    expect(hook).toMatchObject({
      url: valid.url,
      collections: ['posts'],
      actions: ['create', 'delete'],
      filter: 'title != "draft"',
      circuit: { state: 'closed', failures: 0, pausedUntil: null },
    })
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/)

    const listed = await t.request({ method: 'GET', url: '/api/webhooks' })
    expect(listed.statusCode).toBe(200)
    expect(listed.json().items).toHaveLength(1)
    const shown = await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })
    expect(shown.json()).toEqual(listed.json().items[0])
    for (const body of [listed.body, shown.body]) {
      expect(body).not.toContain(hook.secret)
      expect(body).not.toContain('secret')
    }
    // Kept encrypted: the database alone does not give it away.
    const stored = await t.app.plinth.dialect.db
      .selectFrom('_webhooks')
      .select('secret')
      .executeTakeFirstOrThrow()
    expect(stored.secret).not.toContain(hook.secret.slice('whsec_'.length))

    const patched = await t.request({
      method: 'PATCH',
      url: `/api/webhooks/${hook.id}`,
      payload: { url: 'https://other.example.com/in', filter: null },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(patched.json()).toMatchObject({
      url: 'https://other.example.com/in',
      filter: null,
      actions: ['create', 'delete'],
    })
    expect(patched.body).not.toContain('secret')

    const removed = await t.request({ method: 'DELETE', url: `/api/webhooks/${hook.id}` })
    expect(removed.statusCode).toBe(204)
    expectProblem(await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` }), 404)
    expect(await count()).toBe(0)
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    const hook = (await create(valid)).json()
    const routes: Array<[string, string]> = [
      ['GET', '/api/webhooks'],
      ['POST', '/api/webhooks'],
      ['GET', `/api/webhooks/${hook.id}`],
      ['PATCH', `/api/webhooks/${hook.id}`],
      ['DELETE', `/api/webhooks/${hook.id}`],
      ['GET', `/api/webhooks/${hook.id}/deliveries`],
      ['POST', `/api/webhooks/${hook.id}/deliveries/${MISSING}/retry`],
      ['GET', '/api/webhooks/__proto__'],
    ]
    for (const [method, url] of routes) {
      const payload = method === 'POST' || method === 'PATCH' ? { url: 'x' } : undefined
      const anonymous = await t.request({
        method: method as 'GET',
        url,
        auth: null,
        ...(payload ? { payload } : {}),
      })
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401)
      const other = await t.request({
        method: method as 'GET',
        url,
        auth: user,
        ...(payload ? { payload } : {}),
      })
      expect(other.statusCode, `${method} ${url}`).toBe(403)
    }
    expect(await count()).toBe(1)
  })

  test.each(badBodies)(
    'refuses $name on create and on update, changing nothing',
    async ({ payload, field }) => {
      const refused = await create(payload)
      expectProblem(refused, 400)
      if (field) expect(refused.json().errors?.[field]?.code, refused.body).toBeTypeOf('string')
      expect(await count()).toBe(0)

      const hook = (await create(valid)).json()
      const before = (await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).body
      if (typeof payload === 'object' && payload !== null && !Array.isArray(payload) && 'url' in payload) {
        const patched = await t.request({ method: 'PATCH', url: `/api/webhooks/${hook.id}`, payload })
        expectProblem(patched, 400)
      }
      expect((await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).body).toBe(before)
    },
  )

  test.each(privateUrls)('refuses the private target %s when it is registered', async (url) => {
    const refused = await create({ ...valid, url })
    expectProblem(refused, 400)
    expect(refused.json().errors.url.code).toBe('private_address')
    expect(await count()).toBe(0)
  })

  test('refuses malformed JSON, bodies over the limit, empty changes and prototype keys', async () => {
    const raw = (method: 'POST' | 'PATCH', url: string, payload: string) =>
      t.request({ method, url, payload, headers: { 'content-type': 'application/json' } })
    expectProblem(await raw('POST', '/api/webhooks', '{"url": "https://a.example",'), 400)
    expectProblem(
      await raw('POST', '/api/webhooks', JSON.stringify({ ...valid, filter: 'x'.repeat(2_000_000) })),
      413,
    )
    expectProblem(
      await raw('POST', '/api/webhooks', `{"__proto__": {"isSuperuser": true}, "url": "${valid.url}"}`),
      400,
    )
    expectProblem(
      await raw('POST', '/api/webhooks', `{"constructor": {"prototype": {"x": 1}}, "url": "${valid.url}"}`),
      400,
    )
    expect(await count()).toBe(0)
    const hook = (await create(valid)).json()
    expectProblem(await raw('PATCH', `/api/webhooks/${hook.id}`, '{}'), 400)
    expectProblem(await raw('PATCH', `/api/webhooks/${hook.id}`, '{"secret": "whsec_AAAA"}'), 400)
    expectProblem(await raw('PATCH', `/api/webhooks/${hook.id}`, '{"__proto__": {"url": "x"}}'), 400)
    expectProblem(await raw('PATCH', `/api/webhooks/${hook.id}`, '[1,2]'), 400)
    const after = (await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).json()
    expect(after).toMatchObject(valid)
  })

  test.each(badIds)('answers 4xx for the id %s on every route', async (id) => {
    const hook = (await create(valid)).json()
    const path = encodeURIComponent(id)
    const routes: Array<[string, string, object?]> = [
      ['GET', `/api/webhooks/${path}`],
      ['PATCH', `/api/webhooks/${path}`, { url: 'https://x.example.com' }],
      ['DELETE', `/api/webhooks/${path}`],
      ['GET', `/api/webhooks/${path}/deliveries`],
      ['POST', `/api/webhooks/${path}/deliveries/${MISSING}/retry`],
      ['POST', `/api/webhooks/${hook.id}/deliveries/${path}/retry`],
    ]
    for (const [method, url, payload] of routes) {
      const response = await t.request({ method: method as 'GET', url, ...(payload ? { payload } : {}) })
      expect(response.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400)
      expect(response.statusCode, `${method} ${url}`).toBeLessThan(500)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect((await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).json()).toMatchObject(valid)
  })

  test('answers 404 for a missing endpoint or delivery, and for a delivery of another endpoint', async () => {
    const first = (await create(valid)).json()
    const second = (await create(valid)).json()
    expectProblem(await t.request({ method: 'GET', url: `/api/webhooks/${MISSING}` }), 404)
    expectProblem(await t.request({ method: 'GET', url: `/api/webhooks/${MISSING}/deliveries` }), 404)
    expectProblem(await t.request({ method: 'DELETE', url: `/api/webhooks/${MISSING}` }), 404)
    expectProblem(
      await t.request({ method: 'PATCH', url: `/api/webhooks/${MISSING}`, payload: { url: valid.url } }),
      404,
    )
    await t.request({ method: 'POST', url: '/api/collections/posts/records', payload: { title: 'One' } })
    const delivery = await waitForDelivery(first.id)
    expectProblem(
      await t.request({ method: 'POST', url: `/api/webhooks/${second.id}/deliveries/${delivery}/retry` }),
      404,
    )
    expectProblem(
      await t.request({ method: 'POST', url: `/api/webhooks/${first.id}/deliveries/${MISSING}/retry` }),
      404,
    )
  })

  async function waitForDelivery(webhookId: string): Promise<string> {
    for (;;) {
      const page = (await t.request({ method: 'GET', url: `/api/webhooks/${webhookId}/deliveries` })).json()
      if (page.items[0]) return page.items[0].id
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  test.each([
    'state=lost',
    'state=__proto__',
    '__proto__=1',
    'constructor=x',
    'page=0',
    'page=two',
    'perPage=501',
    'nope=1',
    "state=pending' or '1'='1",
  ])('refuses the delivery query %s', async (query) => {
    const hook = (await create(valid)).json()
    expectProblem(
      await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}/deliveries?${query}` }),
      400,
    )
  })

  test('lists deliveries a page at a time, filtered by state', async () => {
    const hook = (await create(valid)).json()
    for (const title of ['One', 'Two', 'Three'])
      await t.request({ method: 'POST', url: '/api/collections/posts/records', payload: { title } })
    const list = (query: string) =>
      t.request({ method: 'GET', url: `/api/webhooks/${hook.id}/deliveries?${query}` }).then((r) => r.json())
    for (;;) {
      if ((await list('')).totalItems === 3) break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const first = await list('perPage=2')
    expect(first).toMatchObject({ page: 1, perPage: 2, totalItems: 3, totalPages: 2 })
    expect(first.items).toHaveLength(2)
    expect(first.items[0]).toMatchObject({ webhookId: hook.id, collection: 'posts', type: 'record.created' })
    expect(first.items[0]).not.toHaveProperty('body')
    const second = await list('perPage=2&page=2')
    expect(second.items).toHaveLength(1)
    expect([...first.items, ...second.items].map((d: any) => d.id).sort()).toHaveLength(3)
    expect((await list('state=succeeded')).totalItems).toBe(0)
  })
})
