import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import {
  type Doc,
  documentOf,
  expectValidDocument,
  schemaValidator,
} from '../test-support/openapi-document.js'

const PASSWORD = 'a long password 1'

const members = {
  name: 'members',
  type: 'auth',
  fields: [{ name: 'nickname', type: 'text', max: 50 }],
  createRule: '',
  viewRule: 'id = @request.auth.id',
  options: { otp: { enabled: true } },
}

const staff = { name: 'staff', type: 'auth', fields: [] }

/** The schema an operation's request body refers to. */
function bodySchemaOf(doc: Doc, path: string, method = 'post'): Doc {
  const schema = doc.paths[path][method].requestBody.content['application/json'].schema
  return doc.components.schemas[schema.$ref.split('/').pop()]
}

describe.each(testDialects)('OpenAPI auth endpoints on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, { name: 'notes', fields: [{ name: 'text', type: 'text' }], listRule: '' })
    await createCollection(t, members)
  })
  afterEach(async () => t?.close())

  test('describes the auth endpoints of auth collections only, with the bodies the routes check', async () => {
    const doc = await documentOf(t)
    await expectValidDocument(doc)
    expect(doc.paths).toHaveProperty('/api/collections/members/auth-refresh')
    expect(doc.paths).not.toHaveProperty('/api/collections/notes/auth-with-password')
    expect(doc.paths).not.toHaveProperty('/api/collections/notes/auth-methods')

    const signIn = doc.paths['/api/collections/members/auth-with-password'].post
    expect(signIn).toMatchObject({ operationId: 'authWithPasswordMembers', tags: ['members auth'] })
    expect(signIn.security).toEqual([{}])
    const credentials = bodySchemaOf(doc, '/api/collections/members/auth-with-password')
    expect(credentials.required).toEqual(['identity', 'password'])
    expect(credentials.additionalProperties).toBe(false)
    expect(credentials.properties.identity).toMatchObject({ type: 'string', minLength: 1, maxLength: 254 })
    expect(Object.keys(signIn.responses)).toEqual(
      expect.arrayContaining(['200', '400', '403', '409', '413', '415', '422', '429']),
    )
    const answer = signIn.responses['200'].content['application/json'].schema
    expect(answer.oneOf[0].properties.record).toEqual({ $ref: '#/components/schemas/MembersRecord' })
    expect(answer.oneOf[1]).toEqual({ $ref: '#/components/schemas/MfaChallenge' })

    const reset = bodySchemaOf(doc, '/api/collections/members/confirm-password-reset')
    expect(reset.required).toEqual(['token', 'password', 'passwordConfirm'])
    expect(bodySchemaOf(doc, '/api/collections/members/mfa/totp/confirm').properties.code.pattern).toBe(
      '^[0-9]{6}$',
    )
    const providers = bodySchemaOf(doc, '/api/collections/members/oauth2-providers', 'put')
    expect(providers.required).toEqual(['enabled', 'providers'])
  })

  test('says which endpoints are public and which need a session', async () => {
    const doc = await documentOf(t)
    expect(doc.paths['/api/collections/members/auth-methods'].get.security).toEqual([{}])
    expect(doc.paths['/api/.well-known/jwks.json'].get.security).toEqual([{}])
    for (const [path, method] of [
      ['/api/auth/sessions', 'get'],
      ['/api/auth/sessions/{id}', 'delete'],
      ['/api/auth/api-keys', 'post'],
      ['/api/collections/members/mfa', 'get'],
      ['/api/collections/members/auth-logout', 'post'],
    ] as const) {
      const operation = doc.paths[path][method]
      expect(operation.security, path).toContainEqual({ bearerAuth: [] })
      expect(operation.security, path).not.toContainEqual({})
      expect(operation.responses, path).toHaveProperty('401')
    }
    expect(doc.paths['/api/auth/sessions/{id}'].delete.security).toContainEqual({
      cookieAuth: [],
      csrfToken: [],
    })
    expect(doc.paths['/api/collections/members/auth-refresh'].post.security).toEqual([
      {},
      { refreshCookie: [], csrfToken: [] },
      { bearerAuth: [] },
    ])
    expect(doc.paths['/api/collections/members/request-oauth2'].post.security).toContainEqual({})
    expect(doc.paths['/api/collections/members/request-oauth2'].post.responses).toHaveProperty('502')
  })

  test('shows anonymous callers how superusers sign in, and no collection they may not see', async () => {
    await createCollection(t, staff)
    const doc = await documentOf(t, null)
    await expectValidDocument(doc)
    const record = { $ref: '#/components/schemas/AuthRecord' }
    const refresh = doc.paths['/api/collections/_superusers/auth-refresh'].post
    expect(refresh.responses['200'].content['application/json'].schema.properties.record).toEqual(record)
    expect(doc.paths).toHaveProperty('/api/collections/_superusers/auth-with-mfa')
    expect(doc.paths).not.toHaveProperty('/api/collections/_superusers/records')
    // OAuth2 settings of system collections refuse every provider.
    expect(doc.paths).not.toHaveProperty('/api/collections/_superusers/request-oauth2')
    expect(doc.paths).toHaveProperty('/api/collections/members/request-oauth2')
    expect(JSON.stringify(doc.paths)).not.toMatch(/staff|Staff/)
    expect((await documentOf(t)).paths).toHaveProperty('/api/collections/staff/auth-with-password')
  })

  test('matches the auth answers the server really gives', async () => {
    const check = schemaValidator(await documentOf(t))
    const expectAnswer = async (
      method: 'GET' | 'POST',
      url: string,
      status: number,
      options: { auth?: string | null; payload?: object; headers?: Record<string, string> } = {},
    ) => {
      const response = await t.request({ method, url, ...options })
      expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(status)
      const path = url.split('?')[0]!.replace(/\/[0-9a-f-]{36}(?=\/|$)/, '/{id}')
      expect(check.answer(method.toLowerCase(), path, status, response.json()), url).toEqual({
        isValid: true,
        errors: 'No errors',
      })
      return response.json()
    }
    const base = '/api/collections/members'
    const created = await t.request({
      method: 'POST',
      url: `${base}/records`,
      auth: null,
      payload: { email: 'm@example.com', password: PASSWORD, passwordConfirm: PASSWORD },
    })
    expect(created.statusCode, created.body).toBe(201)
    const credentials = { identity: 'm@example.com', password: PASSWORD }

    const signedIn = await expectAnswer('POST', `${base}/auth-with-password`, 200, {
      auth: null,
      payload: credentials,
    })
    const auth = signedIn.token as string
    await expectAnswer('POST', `${base}/auth-with-password`, 200, {
      auth: null,
      payload: credentials,
      headers: { 'x-plinth-auth': 'cookie' },
    })
    await expectAnswer('POST', `${base}/auth-refresh`, 200, {
      auth: null,
      payload: { refreshToken: signedIn.refreshToken },
    })
    await expectAnswer('POST', `${base}/auth-refresh`, 200, { auth })
    await expectAnswer('GET', `${base}/auth-methods`, 200, { auth: null })
    await expectAnswer('POST', `${base}/request-otp`, 200, {
      auth: null,
      payload: { email: 'm@example.com' },
    })
    await expectAnswer('GET', '/api/auth/sessions', 200, { auth })
    await expectAnswer('POST', '/api/auth/api-keys', 201, {
      auth,
      payload: { name: 'export', scopes: [{ collection: 'members', operations: ['view'] }] },
    })
    await expectAnswer('GET', '/api/auth/api-keys', 200, { auth })
    await expectAnswer('GET', `${base}/mfa`, 200, { auth })
    await expectAnswer('POST', `${base}/mfa/totp/setup`, 200, { auth })
    await expectAnswer('GET', `${base}/passkeys`, 200, { auth })
    await expectAnswer('POST', `${base}/passkeys/auth/options`, 200, { auth: null })
    await expectAnswer('GET', `${base}/records/${signedIn.record.id}/external-auths`, 200, { auth })
    await expectAnswer('POST', `${base}/impersonate/${signedIn.record.id}`, 200, {
      payload: { duration: 60 },
    })
    await expectAnswer('GET', `${base}/oauth2-providers`, 200)
    await expectAnswer('GET', '/api/.well-known/jwks.json', 200, { auth: null })
    await expectAnswer('GET', '/api/audit?perPage=5', 200)
    await expectAnswer('POST', '/api/collections/_superusers/auth-with-password', 200, {
      auth: null,
      payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD },
    })

    expect(check.answer('post', `${base}/auth-with-password`, 200, { token: auth }).isValid).toBe(false)
    const refused = { identity: 'm@example.com' }
    expect(check('PasswordSignIn', refused).isValid).toBe(false)
    const response = await t.request({ method: 'POST', url: `${base}/auth-with-password`, payload: refused })
    expect(response.statusCode).toBe(400)
    expect(check('Problem', response.json())).toEqual({ isValid: true, errors: 'No errors' })
  })
})
