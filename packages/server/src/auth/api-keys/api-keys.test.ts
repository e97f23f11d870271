import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { API_KEYS_TABLE } from './index.js'

const KEYS = '/api/auth/api-keys'
const POSTS = '/api/collections/posts/records'
const PASSWORD = 'user password 1'
const DAY = 24 * 60 * 60 * 1000
const operations = ['list', 'view', 'create', 'update', 'delete'] as const
type Operation = (typeof operations)[number]

describe.each(testDialects)('API keys on %s', (kind) => {
  let t: TestApp
  let ann: { token: string; id: string }
  let bob: { token: string; id: string }

  async function signUpAndIn(email: string) {
    const signUp = await t.request({
      method: 'POST',
      url: '/api/collections/users/records',
      auth: null,
      payload: { email, password: PASSWORD, passwordConfirm: PASSWORD },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
    const signIn = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      auth: null,
      payload: { identity: email, password: PASSWORD },
    })
    expect(signIn.statusCode, signIn.body).toBe(200)
    return { token: signIn.json().token as string, id: signUp.json().id as string }
  }

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    for (const payload of [
      { name: 'users', type: 'auth', createRule: '', listRule: '', viewRule: '' },
      {
        name: 'posts',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
        ],
        listRule: '',
        viewRule: '',
        createRule: '',
        updateRule: '',
        deleteRule: '',
      },
    ]) {
      const created = await t.request({ method: 'POST', url: '/api/collections', payload })
      expect(created.statusCode, created.body).toBe(201)
    }
    ann = await signUpAndIn('ann@example.com')
    bob = await signUpAndIn('bob@example.com')
  })
  afterEach(async () => {
    vi.useRealTimers()
    await t?.close()
  })

  async function createKey(token: string, payload: object) {
    const response = await t.request({ method: 'POST', url: KEYS, auth: token, payload })
    expect(response.statusCode, response.body).toBe(201)
    return response.json() as Record<string, any>
  }
  const keyFor = (scopes: object[], token = ann.token) => createKey(token, { name: 'script', scopes })
  const storedKeys = async () =>
    t.app.plinth.dialect.db.selectFrom(API_KEYS_TABLE).selectAll().execute() as Promise<Record<string, any>[]>
  const newPost = async () =>
    (await t.request({ method: 'POST', url: POSTS, payload: { title: 'hello', owner: ann.id } })).json()

  async function attempt(operation: Operation, key: string) {
    const post = await newPost()
    const requests = {
      list: { method: 'GET', url: POSTS },
      view: { method: 'GET', url: `${POSTS}/${post.id}` },
      create: { method: 'POST', url: POSTS, payload: { title: 'by key' } },
      update: { method: 'PATCH', url: `${POSTS}/${post.id}`, payload: { title: 'changed' } },
      delete: { method: 'DELETE', url: `${POSTS}/${post.id}` },
    } as const
    return t.request({ ...requests[operation], auth: key })
  }

  test('a new key is shown once; only its hash and prefix are stored', async () => {
    const created = await createKey(ann.token, {
      name: 'deploy bot',
      scopes: [{ collection: 'posts', operations: ['list', 'view'] }],
    })
    expect(created.key).toMatch(/^plk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/)
    expect(created.key.startsWith(`${created.prefix}_`)).toBe(true)
    expect(created).toMatchObject({
      name: 'deploy bot',
      scopes: [{ collection: 'posts', operations: ['list', 'view'] }],
    })
    // Without `expires`, a key lives for the longest allowed time: a year.
    expect(Date.parse(created.expires) - Date.parse(created.created)).toBe(365 * DAY)
    const [row] = await storedKeys()
    expect(JSON.stringify(row)).not.toContain(created.key.slice(created.prefix.length + 1))
    const list = await t.request({ method: 'GET', url: KEYS, auth: ann.token })
    expect(list.statusCode).toBe(200)
    expect(list.json().items).toEqual([
      {
        id: created.id,
        name: 'deploy bot',
        prefix: created.prefix,
        scopes: created.scopes,
        expires: created.expires,
        created: created.created,
        lastUsed: null,
      },
    ])
    expect(list.body).not.toContain(created.key)
    expect((await t.request({ method: 'GET', url: KEYS, auth: bob.token })).json().items).toEqual([])
  })

  describe('scope matrix', () => {
    test.for(operations)('a key with only the %s scope may do that on posts', async (operation) => {
      const { key } = await keyFor([{ collection: 'posts', operations: [operation] }])
      const response = await attempt(operation, key)
      expect(response.statusCode, response.body).toBe(
        { list: 200, view: 200, create: 201, update: 200, delete: 204 }[operation],
      )
    })

    test.for(operations)('a key with every scope but %s is refused that with 403', async (operation) => {
      const others = operations.filter((o) => o !== operation)
      const { key } = await keyFor([
        { collection: 'posts', operations: others },
        { collection: 'users', operations: [operation] },
      ])
      const before = await t.request({ method: 'GET', url: POSTS })
      const response = await attempt(operation, key)
      expect(response.statusCode, response.body).toBe(403)
      expect(response.headers['content-type']).toContain('application/problem+json')
      const after = await t.request({ method: 'GET', url: POSTS })
      // attempt() adds one post as the superuser; the key changed nothing beyond it.
      expect(after.json().totalItems).toBe(before.json().totalItems + 1)
      expect(after.json().items.every((p: any) => p.title === 'hello')).toBe(true)
    })

    test.for(operations)('"*" grants %s on every collection', async (operation) => {
      const { key } = await keyFor([{ collection: '*', operations: [operation] }])
      expect((await attempt(operation, key)).statusCode).toBeLessThan(300)
    })
  })

  test('the key acts as its owner, so the rules still apply', async () => {
    const { key } = await keyFor([{ collection: '*', operations: ['list', 'view'] }])
    const patched = await t.request({
      method: 'PATCH',
      url: '/api/collections/posts',
      payload: { listRule: 'owner = @request.auth.id' },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    await newPost()
    await t.request({ method: 'POST', url: POSTS, payload: { title: 'bob', owner: bob.id } })
    const list = await t.request({ method: 'GET', url: POSTS, auth: key })
    expect(list.json().items.map((p: any) => p.owner)).toEqual([ann.id])
  })

  test('expand reaches only collections the key may view', async () => {
    const post = await newPost()
    const postsOnly = (await keyFor([{ collection: 'posts', operations: ['view'] }])).key
    const both = (await keyFor([{ collection: '*', operations: ['view'] }])).key
    const url = `${POSTS}/${post.id}?expand=owner`
    const narrow = await t.request({ method: 'GET', url, auth: postsOnly })
    expect(narrow.statusCode).toBe(200)
    expect(narrow.json().expand).toBeUndefined()
    const wide = await t.request({ method: 'GET', url, auth: both })
    expect(wide.json().expand.owner.id).toBe(ann.id)
  })

  test('a batch obeys the scopes and applies nothing when one is missing', async () => {
    const { key } = await keyFor([{ collection: 'posts', operations: ['create'] }])
    const before = (await t.request({ method: 'GET', url: POSTS })).json().totalItems
    const response = await t.request({
      method: 'POST',
      url: '/api/batch',
      auth: key,
      payload: {
        requests: [
          { method: 'POST', url: POSTS, body: { title: 'one' } },
          { method: 'POST', url: '/api/collections/users/records', body: { email: 'x@example.com' } },
        ],
      },
    })
    expect(response.statusCode).toBeGreaterThanOrEqual(400)
    expect((await t.request({ method: 'GET', url: POSTS })).json().totalItems).toBe(before)
  })

  test('a superuser key acts as a superuser on records, but not on the rest of the API', async () => {
    const { key } = await createKey(t.token, {
      name: 'admin script',
      scopes: [{ collection: '*', operations: ['list'] }],
    })
    const closed = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'private', fields: [{ name: 'note', type: 'text' }] },
    })
    expect(closed.statusCode).toBe(201)
    expect(
      (await t.request({ method: 'GET', url: '/api/collections/private/records', auth: key })).statusCode,
    ).toBe(200)
    expect(
      (await t.request({ method: 'GET', url: '/api/collections/private/records', auth: ann.token }))
        .statusCode,
    ).toBe(403)
    for (const [method, url] of [
      ['GET', '/api/collections'],
      ['GET', '/api/audit'],
      ['POST', `/api/collections/users/impersonate/${ann.id}`],
    ] as const) {
      const response = await t.request({ method, url, auth: key })
      expect(response.statusCode, `${method} ${url}`).toBe(403)
    }
  })

  test('a key cannot manage keys or sessions, nor sign out', async () => {
    const { key, id } = await keyFor([{ collection: '*', operations: [...operations] }])
    for (const [method, url, payload] of [
      ['POST', KEYS, { name: 'minted', scopes: [{ collection: '*', operations: ['list'] }] }],
      ['GET', KEYS, undefined],
      ['DELETE', `${KEYS}/${id}`, undefined],
      ['GET', '/api/auth/sessions', undefined],
      ['POST', '/api/collections/users/auth-logout', undefined],
      ['POST', '/api/collections/users/auth-refresh', { refreshToken: 'x' }],
    ] as const) {
      const response = await t.request({ method, url, payload, auth: key })
      expect(response.statusCode, `${method} ${url}`).toBe(403)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect(await storedKeys()).toHaveLength(1)
    expect((await attempt('list', key)).statusCode).toBe(200)
  })

  test('an expired key answers 401', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { key } = await createKey(ann.token, {
      name: 'short',
      scopes: [{ collection: 'posts', operations: ['list'] }],
      expires: new Date(Date.now() + DAY).toISOString(),
    })
    expect((await attempt('list', key)).statusCode).toBe(200)
    vi.setSystemTime(Date.now() + DAY + 1000)
    const response = await t.request({ method: 'GET', url: POSTS, auth: key })
    expect(response.statusCode).toBe(401)
    expect(response.json().type).toBe('urn:plinth:error:invalid_token')
  })

  test('a revoked key answers 401 at once, and the revocation is audited', async () => {
    const { key, id } = await keyFor([{ collection: 'posts', operations: ['list'] }])
    expect((await attempt('list', key)).statusCode).toBe(200)
    const revoked = await t.request({ method: 'DELETE', url: `${KEYS}/${id}`, auth: ann.token })
    expect(revoked.statusCode).toBe(204)
    expect((await t.request({ method: 'GET', url: POSTS, auth: key })).statusCode).toBe(401)
    expect((await t.request({ method: 'GET', url: KEYS, auth: ann.token })).json().items).toEqual([])
    expect((await t.request({ method: 'DELETE', url: `${KEYS}/${id}`, auth: ann.token })).statusCode).toBe(
      404,
    )
    const audit = (await t.request({ method: 'GET', url: '/api/audit' })).json().items
    const events = audit.filter((e: any) => e.event.startsWith('api_key_'))
    expect(events.map((e: any) => [e.event, e.recordId, e.detail.key])).toEqual([
      ['api_key_revoked', ann.id, id],
      ['api_key_created', ann.id, id],
    ])
    expect(JSON.stringify(audit)).not.toContain(key)
  })

  test('the key of a deleted record answers 401, and the key is gone', async () => {
    const { key } = await keyFor([{ collection: 'posts', operations: ['list'] }])
    expect((await attempt('list', key)).statusCode).toBe(200)
    const deleted = await t.request({ method: 'DELETE', url: `/api/collections/users/records/${ann.id}` })
    expect(deleted.statusCode).toBe(204)
    expect((await t.request({ method: 'GET', url: POSTS, auth: key })).statusCode).toBe(401)
    expect(await storedKeys()).toEqual([])
  })

  test("another record's key answers 404 and keeps working", async () => {
    const { key, id } = await keyFor([{ collection: 'posts', operations: ['list'] }], bob.token)
    for (const target of [id, 'not-a-key', "' OR 1=1 --", '00000000-0000-0000-0000-000000000000']) {
      const response = await t.request({
        method: 'DELETE',
        url: `${KEYS}/${encodeURIComponent(target)}`,
        auth: ann.token,
      })
      expect(response.statusCode).toBe(404)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect((await attempt('list', key)).statusCode).toBe(200)
  })

  test('lastUsed is written at most once a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const { key } = await keyFor([{ collection: 'posts', operations: ['list'] }])
    const lastUsed = async () =>
      (await t.request({ method: 'GET', url: KEYS, auth: ann.token })).json().items[0].lastUsed
    const first = Date.now()
    await t.request({ method: 'GET', url: POSTS, auth: key })
    expect(await lastUsed()).toBe(new Date(first).toISOString())
    vi.setSystemTime(first + 30_000)
    await t.request({ method: 'GET', url: POSTS, auth: key })
    expect(await lastUsed()).toBe(new Date(first).toISOString())
    vi.setSystemTime(first + 61_000)
    await t.request({ method: 'GET', url: POSTS, auth: key })
    expect(await lastUsed()).toBe(new Date(first + 61_000).toISOString())
  })

  test.for([
    ['not a key at all', 'plk_'],
    ['right shape, unknown key', `plk_0123456789abcdef_${'A'.repeat(43)}`],
    ['a space inside', 'plk_0123456789abcdef _x'],
  ])('a malformed or unknown key answers 401 (%s)', async ([, key]) => {
    const response = await t.app.inject({
      method: 'GET',
      url: POSTS,
      headers: { authorization: `Bearer ${key}` },
    })
    expect(response.statusCode).toBe(401)
  })

  test('a known prefix with a wrong secret answers 401', async () => {
    const { prefix } = await keyFor([{ collection: 'posts', operations: ['list'] }])
    const response = await t.request({ method: 'GET', url: POSTS, auth: `${prefix}_${'B'.repeat(43)}` })
    expect(response.statusCode).toBe(401)
  })

  test('anonymous callers cannot create, list or revoke keys', async () => {
    const scopes = [{ collection: 'posts', operations: ['list'] }]
    expect(
      (await t.request({ method: 'POST', url: KEYS, auth: null, payload: { name: 'x', scopes } })).statusCode,
    ).toBe(401)
    expect((await t.request({ method: 'GET', url: KEYS, auth: null })).statusCode).toBe(401)
    expect((await t.request({ method: 'DELETE', url: `${KEYS}/x`, auth: null })).statusCode).toBe(401)
    expect(await storedKeys()).toEqual([])
  })

  const scopes = [{ collection: 'posts', operations: ['list'] }]
  const badInput: { name: string; payload: unknown; field: string }[] = [
    { name: 'an array body', payload: [], field: 'body' },
    { name: 'a missing name', payload: { scopes }, field: 'name' },
    { name: 'a number as name', payload: { name: 5, scopes }, field: 'name' },
    { name: 'a blank name', payload: { name: '   ', scopes }, field: 'name' },
    { name: 'a too long name', payload: { name: 'x'.repeat(101), scopes }, field: 'name' },
    { name: 'a control character in the name', payload: { name: 'a\u0007b', scopes }, field: 'name' },
    { name: 'no scopes', payload: { name: 'x', scopes: [] }, field: 'scopes' },
    { name: 'scopes not a list', payload: { name: 'x', scopes: 'posts' }, field: 'scopes' },
    { name: 'a scope not an object', payload: { name: 'x', scopes: ['posts'] }, field: 'scopes.0' },
    {
      name: 'an unknown collection',
      payload: { name: 'x', scopes: [{ collection: 'nope', operations: ['list'] }] },
      field: 'scopes.0.collection',
    },
    {
      name: 'an injection as collection',
      payload: { name: 'x', scopes: [{ collection: "posts' OR 1=1 --", operations: ['list'] }] },
      field: 'scopes.0.collection',
    },
    {
      name: 'the same collection twice',
      payload: { name: 'x', scopes: [...scopes, ...scopes] },
      field: 'scopes.1.collection',
    },
    {
      name: 'an unknown operation',
      payload: { name: 'x', scopes: [{ collection: 'posts', operations: ['admin'] }] },
      field: 'scopes.0.operations',
    },
    {
      name: 'an operation twice',
      payload: { name: 'x', scopes: [{ collection: 'posts', operations: ['list', 'list'] }] },
      field: 'scopes.0.operations',
    },
    {
      name: 'no operations',
      payload: { name: 'x', scopes: [{ collection: 'posts', operations: [] }] },
      field: 'scopes.0.operations',
    },
    {
      name: 'an unknown field in a scope',
      payload: { name: 'x', scopes: [{ collection: 'posts', operations: ['list'], admin: true }] },
      field: 'scopes.0.admin',
    },
    { name: 'an unknown field', payload: { name: 'x', scopes, owner: 'someone-else' }, field: 'owner' },
    { name: 'expires not a date', payload: { name: 'x', scopes, expires: 'tomorrow' }, field: 'expires' },
    { name: 'expires a number', payload: { name: 'x', scopes, expires: 1e15 }, field: 'expires' },
    {
      name: 'expires in the past',
      payload: { name: 'x', scopes, expires: '2000-01-01T00:00:00Z' },
      field: 'expires',
    },
    {
      name: 'expires beyond a year',
      payload: { name: 'x', scopes, expires: new Date(Date.now() + 366 * DAY).toISOString() },
      field: 'expires',
    },
  ]

  test.for(badInput)(
    'creating a key rejects $name with 400 and stores nothing',
    async ({ payload, field }) => {
      const response = await t.request({
        method: 'POST',
        url: KEYS,
        auth: ann.token,
        payload: payload as object,
      })
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().errors[field].code).toBeTypeOf('string')
      expect(await storedKeys()).toEqual([])
    },
  )

  test('creating a key rejects malformed JSON with 400', async () => {
    const response = await t.request({
      method: 'POST',
      url: KEYS,
      auth: ann.token,
      headers: { 'content-type': 'application/json' },
      payload: '{"name": ',
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:malformed_json')
    expect(await storedKeys()).toEqual([])
  })
})
