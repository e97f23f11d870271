import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { redactUrl } from '../core/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

describe.each(testDialects)('HTTP basics on %s', (kind) => {
  let t: TestApp
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind, { bodyLimit: 4096 })
  })
  afterAll(async () => t?.close())
  const skipIfNoDatabase = (context: { skip: (reason: string) => void }) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  }

  test('health answers ok and readiness checks the database', async (context) => {
    skipIfNoDatabase(context)
    const health = await t.request({ method: 'GET', url: '/api/health', auth: null })
    expect(health.statusCode).toBe(200)
    expect(health.json()).toEqual({ status: 'ok' })
    const ready = await t.request({ method: 'GET', url: '/api/health/ready', auth: null })
    expect(ready.statusCode).toBe(200)
    expect(ready.json()).toMatchObject({ status: 'ok', database: kind })
  })

  test('readiness answers 503 while the node drains', async (context) => {
    skipIfNoDatabase(context)
    t.app.plinth.lifecycle.isDraining = true
    try {
      const ready = await t.request({ method: 'GET', url: '/api/health/ready', auth: null })
      expect(ready.statusCode).toBe(503)
      expect(ready.json().type).toBe('urn:plinth:error:not_ready')
    } finally {
      t.app.plinth.lifecycle.isDraining = false
    }
  })

  const problems = [
    { name: 'unknown route', method: 'GET', url: '/api/nope', status: 404, code: 'route_not_found' },
    {
      name: 'unknown method on a known route',
      method: 'PUT',
      url: '/api/collections',
      status: 405,
      code: 'method_not_allowed',
    },
    {
      name: 'malformed JSON',
      method: 'POST',
      url: '/api/collections',
      body: '{"name": ',
      type: 'application/json',
      status: 400,
      code: 'malformed_json',
    },
    {
      name: 'body over the limit',
      method: 'POST',
      url: '/api/collections',
      body: JSON.stringify({ name: 'x'.repeat(5000) }),
      type: 'application/json',
      status: 413,
      code: 'body_too_large',
    },
    {
      name: 'wrong content type',
      method: 'POST',
      url: '/api/collections',
      body: 'name=x',
      type: 'text/plain',
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'garbage bearer token',
      method: 'GET',
      url: '/api/collections',
      auth: 'a.b.c',
      status: 401,
      code: 'invalid_token',
    },
    {
      name: 'non-bearer authorization',
      method: 'GET',
      url: '/api/collections',
      headers: { authorization: 'Basic Zm9vOmJhcg==' },
      auth: null,
      status: 401,
      code: 'invalid_token',
    },
    {
      name: 'anonymous on superuser-only endpoint',
      method: 'GET',
      url: '/api/collections',
      auth: null,
      status: 401,
      code: 'unauthorized',
    },
  ] as const

  test.for(problems)('$name answers $status problem+json', async (scenario, context) => {
    skipIfNoDatabase(context)
    const response = await t.request({
      method: scenario.method,
      url: scenario.url,
      ...('body' in scenario ? { payload: scenario.body, headers: { 'content-type': scenario.type } } : {}),
      ...('headers' in scenario ? { headers: scenario.headers } : {}),
      ...('auth' in scenario ? { auth: scenario.auth } : {}),
    })
    expect(response.statusCode).toBe(scenario.status)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const body = response.json()
    expect(body).toMatchObject({ type: `urn:plinth:error:${scenario.code}`, status: scenario.status })
    expect(body.title).toBeTypeOf('string')
    expect(body.instance).toBe(response.headers['x-request-id'])
    // What PocketBase clients read, beside the RFC 9457 members.
    expect(body.message).toBe(body.detail)
    expect(body.data).toEqual(body.errors ?? {})
    expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/)
  })

  test('405 lists the allowed methods', async (context) => {
    skipIfNoDatabase(context)
    const response = await t.request({ method: 'PUT', url: '/api/collections' })
    expect(response.headers.allow).toContain('GET')
    expect(response.headers.allow).toContain('POST')
  })

  test('a request id sent by the client is echoed, a hostile one replaced', async (context) => {
    skipIfNoDatabase(context)
    const echoed = await t.request({
      method: 'GET',
      url: '/api/health',
      headers: { 'x-request-id': 'abc-123' },
    })
    expect(echoed.headers['x-request-id']).toBe('abc-123')
    const replaced = await t.request({
      method: 'GET',
      url: '/api/health',
      headers: { 'x-request-id': 'bad id <script>' },
    })
    expect(replaced.headers['x-request-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    )
  })
})

describe('log redaction', () => {
  test.each([
    ['/api/x?token=abc&page=2', '/api/x?token=%5Bredacted%5D&page=2'],
    ['/api/x?password=p&Code=1', '/api/x?password=%5Bredacted%5D&Code=%5Bredacted%5D'],
    ['/api/x', '/api/x'],
    ['/api/x?filter=a%3D1', '/api/x?filter=a%3D1'],
  ])('%s is logged as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged)
  })
})
