import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { image, sendForm } from '../test-support/files.js'
import { PASSWORD, signUp, type User } from '../test-support/rules-blog.js'

const SECRET = 'the launch codes'

/*
 * Ann owns a record of `secrets` holding a protected text file and a protected image; the
 * view rule lets only the owner see it. Each cell is the status a caller gets for the file
 * when it is sent the way the row says.
 */
const callers = ['anonymous', 'owner', 'other', 'superuser'] as const
type CallerName = (typeof callers)[number]

const ways = [
  /** The caller's own Authorization header, no token. */
  'header',
  /** `?token=` holding a file token of the caller's, no Authorization header. */
  'fileToken',
  /** `?token=` holding the caller's access token: the wrong kind of token. */
  'accessTokenAsFileToken',
  /** The caller's file token sent as a Bearer token. */
  'fileTokenAsBearer',
] as const
type Way = (typeof ways)[number]

/** `null` where the caller has no such token: anonymous has none. */
const expected: Record<Way, Record<CallerName, number | null>> = {
  header: { anonymous: 401, owner: 200, other: 404, superuser: 200 },
  fileToken: { anonymous: null, owner: 200, other: 404, superuser: 200 },
  accessTokenAsFileToken: { anonymous: null, owner: 401, other: 401, superuser: 401 },
  fileTokenAsBearer: { anonymous: null, owner: 401, other: 401, superuser: 401 },
}
const targets = ['doc', 'scan?thumb=100x100'] as const

const cells = ways.flatMap((way) =>
  callers.flatMap((caller) =>
    expected[way][caller] === null
      ? []
      : targets.map((target) => ({ way, caller, target, status: expected[way][caller]! })),
  ),
)

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

describe.each(testDialects)('protected files on %s', (kind) => {
  let t: TestApp
  let ann: User
  let bob: User
  let record: { id: string; doc: string; scan: string }
  let publicFile: { id: string; name: string }
  const access = {} as Record<CallerName, string | null>
  let apiKey: string
  const fileTokens = {} as Record<CallerName, string>

  async function fileToken(bearer: string | null) {
    return t.request({ method: 'POST', url: '/api/files/token', auth: bearer })
  }

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [{ name: 'name', type: 'text' }],
      createRule: '',
      viewRule: 'id = @request.auth.id',
    })
    await createCollection(t, {
      name: 'secrets',
      fields: [
        { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
        { name: 'doc', type: 'file', protected: true },
        { name: 'scan', type: 'file', protected: true, mimeTypes: ['image/*'] },
        { name: 'cover', type: 'file' },
      ],
      listRule: 'owner = @request.auth.id',
      viewRule: 'owner = @request.auth.id',
    })
    ann = await signUp(t, 'ann@example.com')
    bob = await signUp(t, 'bob@example.com')
    const created = await sendForm(t, 'POST', '/api/collections/secrets/records', [
      ['owner', ann.id],
      ['doc', { name: 'codes.txt', bytes: SECRET, type: 'text/plain' }],
      ['scan', { name: 'scan.png', bytes: await image('png', 200, 150), type: 'image/png' }],
      ['cover', { name: 'cover.png', bytes: await image('png'), type: 'image/png' }],
    ])
    expect(created.statusCode, created.body).toBe(201)
    const body = created.json()
    record = { id: body.id, doc: body.doc, scan: body.scan }
    publicFile = { id: body.id, name: body.cover }
    const key = await t.request({
      method: 'POST',
      url: '/api/auth/api-keys',
      auth: ann.token,
      payload: { name: 'files', scopes: [{ collection: '*', operations: ['list', 'view'] }] },
    })
    expect(key.statusCode, key.body).toBe(201)
    apiKey = key.json().key
    Object.assign(access, { anonymous: null, owner: ann.token, other: bob.token, superuser: t.token })
    for (const caller of ['owner', 'other', 'superuser'] as const) {
      const response = await fileToken(access[caller])
      expect(response.statusCode, response.body).toBe(200)
      fileTokens[caller] = response.json().token
    }
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  const fileUrl = (target: string, token?: string) => {
    const [field, query] = target.split('?') as [keyof typeof record, string | undefined]
    const params = new URLSearchParams(query)
    if (token !== undefined) params.set('token', token)
    const search = params.size > 0 ? `?${params}` : ''
    return `/api/files/secrets/${record.id}/${record[field]}${search}`
  }

  function send(way: Way, caller: CallerName, target: string) {
    switch (way) {
      case 'header':
        return t.request({ method: 'GET', url: fileUrl(target), auth: access[caller] })
      case 'fileToken':
        return t.request({ method: 'GET', url: fileUrl(target, fileTokens[caller]), auth: null })
      case 'accessTokenAsFileToken':
        return t.request({ method: 'GET', url: fileUrl(target, access[caller]!), auth: null })
      case 'fileTokenAsBearer':
        return t.request({ method: 'GET', url: fileUrl(target), auth: fileTokens[caller] })
    }
  }

  test.for(cells)('$target by $caller with $way: $status', async ({ way, caller, target, status }) => {
    const response = await send(way, caller, target)
    expect(response.statusCode, response.body).toBe(status)
    if (status === 200) {
      expect(response.headers['cache-control']).toBe('private, no-cache')
      if (target === 'doc') expect(response.body).toBe(SECRET)
      else expect(response.headers['content-type']).toBe('image/png')
    } else {
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.body).not.toContain(SECRET)
    }
  })

  test.for(['owner', 'other', 'superuser'] as const)(
    "%s's file token is no access token on the records API",
    async (caller) => {
      for (const url of [
        `/api/collections/secrets/records/${record.id}`,
        '/api/collections/secrets/records',
        `/api/collections/users/records/${ann.id}`,
      ]) {
        const response = await t.request({ method: 'GET', url, auth: fileTokens[caller] })
        expect(response.statusCode, url).toBe(401)
      }
      const minted = await fileToken(fileTokens[caller])
      expect(minted.statusCode).toBe(401)
    },
  )

  test('a file token is of its own kind, lives PLINTH_FILE_TOKEN_TTL seconds, and names its session', async () => {
    const token = fileTokens.owner
    const claims = claimsOf(token)
    expect(claims).toMatchObject({ typ: 'file', sub: ann.id, col: 'users', sid: claimsOf(ann.token).sid })
    expect(Number(claims.exp) - Number(claims.iat)).toBe(t.config.files.tokenTtl)
    expect(t.config.files.tokenTtl).toBe(120)
  })

  test('a file token stops opening the file once it has expired', async () => {
    const minted = await fileToken(ann.token)
    const token = minted.json().token
    const issued = Number(claimsOf(token).iat) * 1000
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(issued + (t.config.files.tokenTtl - 10) * 1000)
    const late = await t.request({ method: 'GET', url: fileUrl('doc', token), auth: null })
    expect(late.statusCode, late.body).toBe(200)
    // Past the lifetime and the 30 s leeway every token gets for clocks that disagree.
    vi.setSystemTime(issued + (t.config.files.tokenTtl + 31) * 1000)
    const expired = await t.request({ method: 'GET', url: fileUrl('doc', token), auth: null })
    expect(expired.statusCode).toBe(401)
    expect(expired.json().detail).toMatch(/expired/)
    // The owner's own session outlives the file token: only the token has run out.
    const withHeader = await t.request({ method: 'GET', url: fileUrl('doc'), auth: ann.token })
    expect(withHeader.statusCode).toBe(200)
  })

  test('a file token stops opening the file once its session has ended', async () => {
    // A session of its own, so ending it leaves the token every other test uses working.
    const signIn = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      auth: null,
      payload: { identity: ann.email, password: PASSWORD },
    })
    expect(signIn.statusCode, signIn.body).toBe(200)
    const session = signIn.json().token
    const token = (await fileToken(session)).json().token
    const before = await t.request({ method: 'GET', url: fileUrl('doc', token), auth: null })
    expect(before.statusCode).toBe(200)
    const signOut = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-logout',
      auth: session,
    })
    expect(signOut.statusCode).toBe(204)
    const after = await t.request({ method: 'GET', url: fileUrl('doc', token), auth: null })
    expect(after.statusCode).toBe(401)
    const stillSignedIn = await t.request({
      method: 'GET',
      url: fileUrl('doc', fileTokens.owner),
      auth: null,
    })
    expect(stillSignedIn.statusCode).toBe(200)
  })

  test('the view rule is read when the file is served, not when the token was made', async () => {
    const token = (await fileToken(ann.token)).json().token
    const moved = await t.request({
      method: 'PATCH',
      url: `/api/collections/secrets/records/${record.id}`,
      payload: { owner: bob.id },
    })
    expect(moved.statusCode, moved.body).toBe(200)
    try {
      const response = await t.request({ method: 'GET', url: fileUrl('doc', token), auth: null })
      expect(response.statusCode).toBe(404)
    } finally {
      await t.request({
        method: 'PATCH',
        url: `/api/collections/secrets/records/${record.id}`,
        payload: { owner: ann.id },
      })
    }
  })

  test('an API key reads protected files as its owner, within its scopes, and public ones too', async () => {
    const own = await t.request({ method: 'GET', url: fileUrl('doc'), auth: apiKey })
    expect(own.statusCode, own.body).toBe(200)
    expect(own.body).toBe(SECRET)
    const open = await t.request({
      method: 'GET',
      url: `/api/files/secrets/${publicFile.id}/${publicFile.name}`,
      auth: apiKey,
    })
    expect(open.statusCode).toBe(200)
    const narrow = await t.request({
      method: 'POST',
      url: '/api/auth/api-keys',
      auth: access.owner!,
      payload: { name: 'users only', scopes: [{ collection: 'users', operations: ['view'] }] },
    })
    expect(narrow.statusCode, narrow.body).toBe(201)
    const outside = await t.request({ method: 'GET', url: fileUrl('doc'), auth: narrow.json().key })
    expect(outside.statusCode).toBe(404)
  })

  test('a token on a public file is not looked at', async () => {
    // PocketBase clients add the token to every file URL of a record: a stale one must not break public images.
    for (const token of ['garbage', fileTokens.other, ann.token]) {
      const response = await t.request({
        method: 'GET',
        url: `/api/files/secrets/${publicFile.id}/${publicFile.name}?token=${encodeURIComponent(token)}`,
        auth: null,
      })
      expect(response.statusCode).toBe(200)
      expect(response.headers['cache-control']).toBe('public, max-age=86400')
    }
  })

  test.for([
    { why: 'anonymous', auth: () => null, status: 401 },
    { why: 'an API key', auth: () => apiKey, status: 403 },
    { why: 'an invalid bearer', auth: () => 'not-a-token', status: 401 },
  ])('POST /api/files/token by $why is $status', async ({ auth, status }) => {
    const response = await fileToken(auth())
    expect(response.statusCode).toBe(status)
    expect(response.headers['content-type']).toContain('application/problem+json')
  })

  test.for([
    { why: 'malformed JSON', payload: '{not json', type: 'application/json', status: 400 },
    { why: 'a JSON array', payload: '[1, 2]', type: 'application/json', status: 200 },
    {
      why: 'a JSON __proto__',
      payload: '{"__proto__": {"typ": "access"}, "ttl": 99999}',
      type: 'application/json',
      status: 400,
    },
    { why: 'a form', payload: 'a=1', type: 'application/x-www-form-urlencoded', status: 415 },
    { why: 'plain text', payload: 'hello', type: 'text/plain', status: 415 },
  ])(
    'POST /api/files/token with $why is $status, whatever the body says',
    async ({ payload, type, status }) => {
      const response = await t.request({
        method: 'POST',
        url: '/api/files/token',
        payload,
        headers: { 'content-type': type },
        auth: ann.token,
      })
      expect(response.statusCode, response.body).toBe(status)
      if (status === 200) {
        const claims = claimsOf(response.json().token)
        expect(claims.typ).toBe('file')
        expect(Number(claims.exp) - Number(claims.iat)).toBe(t.config.files.tokenTtl)
      } else expect(response.headers['content-type']).toContain('application/problem+json')
    },
  )
})
