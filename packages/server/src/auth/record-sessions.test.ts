import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const MISSING_SESSION = '0190a6e4-0000-7000-8000-000000000000'

describe.each(testDialects)('sessions of any record, for superusers, on %s', (kind) => {
  let t: TestApp
  let ada: string
  let bob: string
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await createCollection(t, { name: 'notes', fields: [{ name: 'text', type: 'text' }] })
    ada = await signUp(t, 'ada@example.com')
    bob = await signUp(t, 'bob@example.com')
  })
  afterEach(async () => t?.close())

  const signIn = async (email: string) => {
    const answer = await passwordSignIn(t, email)
    expect(answer.statusCode, answer.body).toBe(200)
    return answer.json() as { token: string; refreshToken: string }
  }
  const refresh = (refreshToken: string) =>
    t.request({
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: null,
      payload: { refreshToken },
    })
  const sessionsOf = async (id: string) => {
    const answer = await t.request({ method: 'GET', url: `/api/collections/users/records/${id}/sessions` })
    expect(answer.statusCode, answer.body).toBe(200)
    return answer.json().items as Array<Record<string, unknown>>
  }
  const revocations = async () =>
    (await t.request({ method: 'GET', url: '/api/audit?event=session_revoked' })).json().items as Array<
      Record<string, any>
    >

  test('lists a record’s sessions, and ends one of them, audited with the superuser as actor', async () => {
    const first = await signIn('ada@example.com')
    const second = await signIn('ada@example.com')
    await signIn('bob@example.com')
    const listed = await sessionsOf(ada)
    expect(listed).toHaveLength(2)
    expect(listed[0]).toMatchObject({ impersonated: false, impersonatedBy: null })
    expect(Object.keys(listed[0]!).sort()).toEqual(
      ['created', 'expires', 'id', 'impersonated', 'impersonatedBy', 'ip', 'lastUsed', 'userAgent'].sort(),
    )
    expect(await sessionsOf(bob)).toHaveLength(1)

    const mine = (await t.request({ method: 'GET', url: '/api/auth/sessions', auth: first.token })).json()
    const firstSession = mine.items.find((s: any) => s.current).id as string
    const revoked = await t.request({
      method: 'DELETE',
      url: `/api/collections/users/records/${ada}/sessions/${firstSession}`,
    })
    expect(revoked.statusCode, revoked.body).toBe(204)
    expect((await refresh(first.refreshToken)).statusCode).toBe(401)
    expect((await refresh(second.refreshToken)).statusCode).toBe(200)
    expect((await sessionsOf(ada)).map((s) => s.id)).not.toContain(firstSession)

    const [entry] = await revocations()
    const superuserId = (
      await t.request({ method: 'GET', url: '/api/collections/_superusers/records' })
    ).json().items[0].id
    expect(entry).toMatchObject({ recordId: ada, actor: superuserId, detail: { session: firstSession } })
    // Ended already: a second time is a 404.
    expect(
      (
        await t.request({
          method: 'DELETE',
          url: `/api/collections/users/records/${ada}/sessions/${firstSession}`,
        })
      ).statusCode,
    ).toBe(404)
  })

  test('ends every session of a record, and no other record’s', async () => {
    const first = await signIn('ada@example.com')
    const second = await signIn('ada@example.com')
    const other = await signIn('bob@example.com')
    const answer = await t.request({
      method: 'DELETE',
      url: `/api/collections/users/records/${ada}/sessions`,
    })
    expect(answer.statusCode, answer.body).toBe(204)
    expect(await sessionsOf(ada)).toEqual([])
    expect((await refresh(first.refreshToken)).statusCode).toBe(401)
    expect((await refresh(second.refreshToken)).statusCode).toBe(401)
    expect((await refresh(other.refreshToken)).statusCode).toBe(200)
    const [entry] = await revocations()
    expect(entry!.recordId).toBe(ada)
    expect(entry!.detail.sessions).toHaveLength(2)
  })

  test('another record’s session, an unknown record or collection, and a base collection are 404s', async () => {
    await signIn('ada@example.com')
    await signIn('bob@example.com')
    const bobsSession = (await sessionsOf(bob))[0]!.id as string
    for (const url of [
      `/api/collections/users/records/${ada}/sessions/${bobsSession}`,
      `/api/collections/users/records/${ada}/sessions/${MISSING_SESSION}`,
      `/api/collections/users/records/${MISSING_SESSION}/sessions/${bobsSession}`,
      `/api/collections/notes/records/${ada}/sessions/${bobsSession}`,
      `/api/collections/nope/records/${ada}/sessions/${bobsSession}`,
      `/api/collections/__proto__/records/${ada}/sessions/${bobsSession}`,
      `/api/collections/constructor/records/${bob}/sessions`,
      `/api/collections/users/records/prototype/sessions`,
    ]) {
      const answer = await t.request({ method: 'DELETE', url })
      expect([400, 404], `${url}: ${answer.body}`).toContain(answer.statusCode)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
    expect(await sessionsOf(bob)).toHaveLength(1)
    expect(await sessionsOf(ada)).toHaveLength(1)
    expect(await revocations()).toEqual([])
  })

  test('bad ids, query parameters and bodies are 4xx problems that change nothing', async () => {
    await signIn('ada@example.com')
    const base = `/api/collections/users/records/${ada}/sessions`
    for (const [method, url, body, status] of [
      ['DELETE', `${base}/not-a-uuid`, undefined, 400],
      ['DELETE', `${base}/${encodeURIComponent("1' or '1'='1")}`, undefined, 400],
      ['DELETE', `${base}/${MISSING_SESSION.toUpperCase()}`, undefined, 400],
      ['GET', `${base}?perPage=1`, undefined, 400],
      ['DELETE', `${base}?all=1`, undefined, 400],
      ['DELETE', base, '{"except":"x"}', 400],
      ['DELETE', base, '{"__proto__":{"x":1}}', 400],
      ['DELETE', base, '{"except":', 400],
      ['DELETE', base, `{"x":"${'y'.repeat(2 * 1024 * 1024)}"}`, 413],
    ] as const) {
      const answer = await t.request({
        method,
        url,
        ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
      })
      expect(answer.statusCode, `${method} ${url}: ${answer.body}`).toBe(status)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
    expect(await sessionsOf(ada)).toHaveLength(1)
  })

  test('anonymous callers get 401 and other users 403, even for their own record', async () => {
    const own = await signIn('ada@example.com')
    const session = (await sessionsOf(ada))[0]!.id as string
    const base = `/api/collections/users/records/${ada}/sessions`
    for (const [method, url] of [
      ['GET', base],
      ['GET', `${base}?nope=1`],
      ['DELETE', base],
      ['DELETE', `${base}/${session}`],
      ['DELETE', `${base}/not-a-uuid`],
    ] as const) {
      expect((await t.request({ method, url, auth: null })).statusCode, `${method} ${url}`).toBe(401)
      expect((await t.request({ method, url, auth: own.token })).statusCode, `${method} ${url}`).toBe(403)
    }
    expect(await sessionsOf(ada)).toHaveLength(1)
  })
})
