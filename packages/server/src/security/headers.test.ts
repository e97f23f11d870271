import type { FastifyRequest, LightMyRequestResponse } from 'fastify'
import { afterEach, describe, expect, test } from 'vitest'
import { ADMIN_CSP } from '../admin/index.js'
import { loadConfig } from '../config/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { DATA_CSP, DOCUMENT_HEADERS, limitClass, PAGE_CSP } from './index.js'

const APP = 'https://app.example.com'

/** A preflight refused on purpose: 403 problem+json, and nothing that would let the browser go on. */
function expectRefusedPreflight(preflight: LightMyRequestResponse, origin: string): void {
  expect(preflight.statusCode, origin).toBe(403)
  expect(preflight.headers['content-type']).toContain('application/problem+json')
  expect(preflight.json().type).toBe('urn:plinth:error:origin_not_allowed')
  for (const name of Object.keys(preflight.headers))
    expect(name, origin).not.toMatch(/^access-control-allow-/)
}

describe.each(testDialects)('security headers, CORS and body limits on %s', (kind) => {
  let t: TestApp | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })
  const start = async (context: { skip: (why: string) => void }, overrides = {}) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, overrides)
    return t
  }

  test('API answers carry the protective headers and a CSP that allows nothing', async (context) => {
    const t = await start(context)
    for (const url of ['/api/health', '/api/collections/nope/records', '/api/no-such-route']) {
      const response = await t.request({ method: 'GET', url })
      expect(response.headers, url).toMatchObject({
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'x-frame-options': 'DENY',
        'cross-origin-resource-policy': 'same-origin',
        'content-security-policy': DATA_CSP,
      })
      expect(response.headers['strict-transport-security'], url).toBeUndefined()
      // Headers only a document acts on are left to pages: they would be bytes on every answer.
      for (const name of Object.keys(DOCUMENT_HEADERS)) expect(response.headers[name], url).toBeUndefined()
    }
  })

  test('a URL the router cannot decode gets a problem with the headers', async (context) => {
    const t = await start(context)
    for (const url of ['/api/%zz', '/api/collections/posts/records/%E0%A4%A']) {
      const response = await t.request({ method: 'GET', url, auth: null })
      expect(response.statusCode, url).toBe(400)
      expect(response.headers['content-type'], url).toContain('application/problem+json')
      expect(response.json(), url).toMatchObject({ status: 400, type: 'urn:plinth:error:bad_request' })
      expect(response.headers, url).toMatchObject({
        'x-content-type-options': 'nosniff',
        'content-security-policy': DATA_CSP,
      })
      expect(response.headers['x-request-id'], url).toBeTruthy()
    }
  })

  test('an invalid token still gets the headers with its 401', async (context) => {
    const t = await start(context)
    const response = await t.request({ method: 'GET', url: '/api/collections', auth: 'a.b.c' })
    expect(response.statusCode).toBe(401)
    expect(response.headers['x-content-type-options']).toBe('nosniff')
  })

  test('HSTS is sent when the public URL is https', async (context) => {
    const t = await start(context, { publicUrl: 'https://api.example.com' })
    const response = await t.request({ method: 'GET', url: '/api/health' })
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000')
  })

  test('pages get a strict CSP and load no inline script or style', async (context) => {
    const t = await start(context)
    const pages = [
      ['/_/auth/confirm-verification', PAGE_CSP],
      ['/api/docs', PAGE_CSP],
      // The admin app, which also answers the first-run setup link.
      ['/_/setup', ADMIN_CSP],
    ]
    for (const [url, csp] of pages) {
      const page = await t.request({ method: 'GET', url, auth: null })
      expect(page.statusCode, url).toBe(200)
      expect(page.headers['content-security-policy'], url).toBe(csp)
      expect(page.headers, url).toMatchObject({
        ...DOCUMENT_HEADERS,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
      })
      expect(page.body, url).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/)
      expect(page.body, url).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i)
    }
    for (const csp of [PAGE_CSP, ADMIN_CSP]) {
      expect(csp).toContain("script-src 'self'")
      expect(csp).not.toContain('unsafe-inline')
    }
    const script = await t.request({ method: 'GET', url: '/_/auth/confirm.js', auth: null })
    expect(script.statusCode).toBe(200)
    expect(script.headers['content-type']).toContain('text/javascript')
    expect(script.body).toContain('fetch(`/api/collections/')
    const style = await t.request({ method: 'GET', url: '/_/auth/confirm.css', auth: null })
    expect(style.headers['content-type']).toContain('text/css')
  })

  test('by default no other origin may call the API', async (context) => {
    const t = await start(context)
    const preflight = await t.request({
      method: 'OPTIONS',
      url: '/api/collections/posts/records',
      auth: null,
      headers: { origin: APP, 'access-control-request-method': 'POST' },
    })
    expectRefusedPreflight(preflight, APP)
    const get = await t.request({ method: 'GET', url: '/api/health', headers: { origin: APP } })
    expect(get.headers['access-control-allow-origin']).toBeUndefined()
  })

  describe('with an allow-list', () => {
    const allowList = { corsOrigins: [APP, 'http://localhost:5173'] }

    test('a listed origin gets its preflight answered, with the allowed and exposed headers', async (context) => {
      const t = await start(context, allowList)
      const preflight = await t.request({
        method: 'OPTIONS',
        url: '/api/collections/posts/records',
        auth: null,
        headers: {
          origin: APP,
          'access-control-request-method': 'PATCH',
          'access-control-request-headers': 'authorization, if-match, idempotency-key',
        },
      })
      expect(preflight.statusCode).toBe(204)
      expect(preflight.headers['access-control-allow-origin']).toBe(APP)
      expect(preflight.headers['access-control-allow-credentials']).toBe('true')
      expect(preflight.headers['access-control-allow-methods']).toContain('PATCH')
      const allowed = String(preflight.headers['access-control-allow-headers']).toLowerCase().split(', ')
      for (const header of [
        'authorization',
        'content-type',
        'idempotency-key',
        'if-match',
        'if-none-match',
        'x-request-id',
        'x-plinth-auth',
        'x-csrf-token',
      ])
        expect(allowed).toContain(header)
      expect(preflight.headers.vary).toContain('Origin')
      const get = await t.request({ method: 'GET', url: '/api/health', headers: { origin: APP } })
      expect(get.headers['access-control-allow-origin']).toBe(APP)
      expect(String(get.headers['access-control-expose-headers']).split(', ')).toEqual([
        'ETag',
        'Location',
        'X-Request-Id',
        'Retry-After',
        'Idempotent-Replayed',
      ])
      expect(get.headers['cross-origin-resource-policy']).toBe('cross-origin')
    })

    test('the cookie mode of the docs passes a preflight from a listed origin', async (context) => {
      const t = await start(context, allowList)
      for (const [method, headers] of [
        ['POST', 'content-type, x-plinth-auth'],
        ['PATCH', 'content-type, x-csrf-token'],
        ['DELETE', 'x-csrf-token'],
      ] as const) {
        const preflight = await t.request({
          method: 'OPTIONS',
          url: '/api/collections/users/auth-with-password',
          auth: null,
          headers: {
            origin: APP,
            'access-control-request-method': method,
            'access-control-request-headers': headers,
          },
        })
        expect(preflight.statusCode, headers).toBe(204)
        expect(preflight.headers['access-control-allow-origin']).toBe(APP)
        const allowed = String(preflight.headers['access-control-allow-headers']).toLowerCase().split(', ')
        for (const header of headers.split(', ')) expect(allowed, header).toContain(header)
      }
    })

    test('an unlisted origin gets no CORS headers, also for look-alikes', async (context) => {
      const t = await start(context, allowList)
      for (const origin of [
        'https://evil.example.com',
        `${APP}.evil.com`,
        'http://app.example.com',
        'null',
      ]) {
        const preflight = await t.request({
          method: 'OPTIONS',
          url: '/api/collections/posts/records',
          auth: null,
          headers: { origin, 'access-control-request-method': 'POST' },
        })
        expectRefusedPreflight(preflight, origin)
        const get = await t.request({ method: 'GET', url: '/api/health', headers: { origin } })
        expect(get.headers['access-control-allow-origin'], origin).toBeUndefined()
      }
    })

    test('a 401 carries CORS headers, so the page can read why', async (context) => {
      const t = await start(context, allowList)
      const response = await t.request({
        method: 'GET',
        url: '/api/collections',
        auth: 'a.b.c',
        headers: { origin: APP },
      })
      expect(response.statusCode).toBe(401)
      expect(response.headers['access-control-allow-origin']).toBe(APP)
    })
  })

  test('"*" lets any origin read answers, without credentials', async (context) => {
    const t = await start(context, { corsOrigins: '*' })
    const preflight = await t.request({
      method: 'OPTIONS',
      url: '/api/health',
      auth: null,
      headers: { origin: 'https://anywhere.example', 'access-control-request-method': 'GET' },
    })
    expect(preflight.statusCode).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe('*')
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined()
  })

  test('a configured smaller body limit answers 413 above it and stores nothing', async (context) => {
    const t = await start(context, { bodyLimit: 2048 })
    const definition = { name: 'notes', fields: [{ name: 'text', type: 'text' }], createRule: '' }
    expect(
      (await t.request({ method: 'POST', url: '/api/collections', payload: definition })).statusCode,
    ).toBe(201)
    const url = '/api/collections/notes/records'
    const small = await t.request({ method: 'POST', url, payload: { text: 'x'.repeat(1500) } })
    expect(small.statusCode).toBe(201)
    const large = await t.request({ method: 'POST', url, payload: { text: 'x'.repeat(3000) } })
    expect(large.statusCode).toBe(413)
    expect(large.json().type).toBe('urn:plinth:error:body_too_large')
    expect((await t.request({ method: 'GET', url })).json().totalItems).toBe(1)
  })
})

describe('CORS settings', () => {
  test('read exact origins, "*" or none', () => {
    expect(loadConfig({}).corsOrigins).toEqual([])
    expect(loadConfig({ PLINTH_CORS_ORIGINS: '*' }).corsOrigins).toBe('*')
    expect(loadConfig({ PLINTH_CORS_ORIGINS: `${APP}, http://localhost:5173` }).corsOrigins).toEqual([
      APP,
      'http://localhost:5173',
    ])
  })

  test.for([
    `${APP}/`,
    'app.example.com',
    'ftp://files.example.com',
    `${APP}/path`,
    '*.example.com',
    `${APP},*`,
  ])('reject %s', (value) => {
    expect(() => loadConfig({ PLINTH_CORS_ORIGINS: value })).toThrow('PLINTH_CORS_ORIGINS')
  })
})

describe('which limit a request counts against', () => {
  const request = (url: string, method = 'POST', params: Record<string, string> = {}, isSuperuser = false) =>
    ({
      routeOptions: { url },
      method,
      params,
      caller: { auth: null, isSuperuser },
    }) as unknown as FastifyRequest
  const isAuth = (name: string) => name === 'users'

  test.for([
    '/api/collections/:collection/auth-with-password',
    '/api/collections/:collection/auth-with-otp',
    '/api/collections/:collection/auth-with-oauth2',
    '/api/collections/:collection/auth-with-mfa',
    '/api/collections/:collection/auth-with-passkey',
    '/api/collections/:collection/auth-with-passkey/options',
    '/api/collections/:collection/request-otp',
    '/api/collections/:collection/request-password-reset',
    '/api/collections/:collection/confirm-password-reset',
    '/api/collections/:collection/request-verification',
    '/api/collections/:collection/request-email-change',
  ])('%s is a sign-in action', (url) => {
    expect(limitClass(request(url), isAuth)).toBe('auth')
  })

  test('creating a record of an auth collection is a sign-up, except for superusers', () => {
    const records = '/api/collections/:collection/records'
    expect(limitClass(request(records, 'POST', { collection: 'users' }), isAuth)).toBe('signUp')
    expect(limitClass(request(records, 'POST', { collection: 'users' }, true), isAuth)).toBe('api')
    expect(limitClass(request(records, 'POST', { collection: 'posts' }), isAuth)).toBe('api')
    expect(limitClass(request(records, 'GET', { collection: 'users' }), isAuth)).toBe('api')
  })

  test.for([
    '/api/collections/:collection/auth-refresh',
    '/api/collections/:collection/confirm-verification',
    '/api/collections/:collection/records/:id',
    '/api/batch',
    '/api/auth/sessions',
  ])('%s is a general request', (url) => {
    expect(limitClass(request(url), isAuth)).toBe('api')
  })
})
