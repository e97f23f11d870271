import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const users = '/api/collections/users'
const PASSWORD = 'user password 1'

/** Cookies from Set-Cookie headers, as a browser would keep them. */
function cookieJar(
  setCookie: string | string[] | undefined,
): Record<string, { value: string; attributes: string }> {
  const jar: Record<string, { value: string; attributes: string }> = {}
  for (const line of [setCookie ?? []].flat()) {
    const [pair, ...attributes] = line.split(';')
    const [name, ...value] = pair!.split('=')
    jar[name!.trim()] = { value: value.join('='), attributes: attributes.join(';').toLowerCase() }
  }
  return jar
}

describe.each(testDialects)('cookie mode on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'users', type: 'auth', createRule: '' },
    })
    await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: {
        name: 'notes',
        fields: [{ name: 'text', type: 'text' }],
        createRule: '@request.auth.id != ""',
        listRule: '',
      },
    })
    await t.request({
      method: 'POST',
      url: `${users}/records`,
      auth: null,
      payload: { email: 'ann@example.com', password: PASSWORD, passwordConfirm: PASSWORD },
    })
  })
  afterEach(async () => t?.close())

  const signIn = async () => {
    const response = await t.request({
      method: 'POST',
      url: `${users}/auth-with-password`,
      auth: null,
      headers: { 'x-plinth-auth': 'cookie' },
      payload: { identity: 'ann@example.com', password: PASSWORD },
    })
    expect(response.statusCode, response.body).toBe(200)
    return { body: response.json(), jar: cookieJar(response.headers['set-cookie']) }
  }
  const cookieHeader = (
    jar: ReturnType<typeof cookieJar>,
    names = ['plinth_token', 'plinth_csrf', 'plinth_refresh'],
  ) =>
    names
      .filter((n) => jar[n])
      .map((n) => `${n}=${jar[n]!.value}`)
      .join('; ')

  test('tokens go into HttpOnly cookies, not the body', async () => {
    const { body, jar } = await signIn()
    expect(body.token).toBeUndefined()
    expect(body.refreshToken).toBeUndefined()
    expect(body.record.email).toBe('ann@example.com')
    expect(jar.plinth_token!.attributes).toContain('httponly')
    expect(jar.plinth_token!.attributes).toContain('samesite=lax')
    expect(jar.plinth_token!.attributes).toContain('secure')
    expect(jar.plinth_refresh!.attributes).toContain('httponly')
    expect(jar.plinth_refresh!.attributes).toContain('samesite=strict')
    expect(jar.plinth_refresh!.attributes).toContain('path=/api/collections')
    expect(jar.plinth_csrf!.attributes).not.toContain('httponly')
  })

  test('reads work with the cookie; writes need the CSRF header of the same session', async () => {
    const { jar } = await signIn()
    const other = await signIn()
    const cookie = cookieHeader(jar)
    const read = await t.request({
      method: 'GET',
      url: '/api/auth/sessions',
      auth: null,
      headers: { cookie },
    })
    expect(read.statusCode).toBe(200)
    const create = (headers: Record<string, string>) =>
      t.request({
        method: 'POST',
        url: '/api/collections/notes/records',
        auth: null,
        payload: { text: 'hi' },
        headers: { cookie, ...headers },
      })
    const forged = await create({})
    expect(forged.statusCode).toBe(403)
    expect(forged.json().type).toBe('urn:plinth:error:csrf_failed')
    expect((await create({ 'x-csrf-token': other.jar.plinth_csrf!.value })).statusCode).toBe(403)
    expect((await create({ 'x-csrf-token': 'guess' })).statusCode).toBe(403)
    const list = await t.request({ method: 'GET', url: '/api/collections/notes/records', auth: null })
    expect(list.json().totalItems).toBe(0)
    expect((await create({ 'x-csrf-token': jar.plinth_csrf!.value })).statusCode).toBe(201)
  })

  test('refresh reads the refresh cookie, needs the CSRF header, and sets new cookies', async () => {
    const { jar } = await signIn()
    const refresh = (headers: Record<string, string>) =>
      t.request({
        method: 'POST',
        url: `${users}/auth-refresh`,
        auth: null,
        headers: { 'x-plinth-auth': 'cookie', ...headers },
      })
    expect((await refresh({ cookie: cookieHeader(jar) })).statusCode).toBe(403)
    const fresh = await refresh({ cookie: cookieHeader(jar), 'x-csrf-token': jar.plinth_csrf!.value })
    expect(fresh.statusCode, fresh.body).toBe(200)
    expect(fresh.json().token).toBeUndefined()
    const next = cookieJar(fresh.headers['set-cookie'])
    expect(next.plinth_refresh!.value).not.toBe(jar.plinth_refresh!.value)
    expect(
      (await refresh({ cookie: cookieHeader(jar), 'x-csrf-token': jar.plinth_csrf!.value })).statusCode,
    ).toBe(401)
  })

  test('the access cookie without the refresh cookie does not refresh: only a bearer token does that', async () => {
    const { jar } = await signIn()
    const response = await t.request({
      method: 'POST',
      url: `${users}/auth-refresh`,
      auth: null,
      headers: {
        cookie: `plinth_token=${jar.plinth_token!.value}; plinth_csrf=${jar.plinth_csrf!.value}`,
        'x-csrf-token': jar.plinth_csrf!.value,
      },
    })
    expect(response.statusCode).toBe(401)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.headers['set-cookie']).toBeUndefined()
  })

  test('logout clears the cookies', async () => {
    const { jar } = await signIn()
    const response = await t.request({
      method: 'POST',
      url: `${users}/auth-logout`,
      auth: null,
      headers: { cookie: cookieHeader(jar), 'x-csrf-token': jar.plinth_csrf!.value },
    })
    expect(response.statusCode).toBe(204)
    const cleared = cookieJar(response.headers['set-cookie'])
    expect(cleared.plinth_token!.attributes).toContain('max-age=0')
    expect(cleared.plinth_refresh!.attributes).toContain('max-age=0')
  })

  test('a bearer token still works without CSRF, and wins over a cookie', async () => {
    const bearer = await t.request({
      method: 'POST',
      url: `${users}/auth-with-password`,
      auth: null,
      payload: { identity: 'ann@example.com', password: PASSWORD },
    })
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      auth: bearer.json().token,
      headers: { cookie: 'plinth_token=garbage' },
      payload: { text: 'x' },
    })
    expect(response.statusCode).toBe(201)
  })
})
