import { beforeEach, describe, expect, test } from 'vitest'
import type { TestApp } from '../../test-support/app.js'
import { testDialects } from '../../test-support/databases.js'
import { codeFor, totpApp, users } from '../../test-support/totp.js'

describe.each(testDialects)('who may manage TOTP, and bad input to it, on %s', (kind) => {
  const app = totpApp(kind)
  const { createAuthCollection, signUp, passwordSignIn, enrolled, mfaIdOf, authWithMfa } = app
  let t: TestApp
  beforeEach(() => {
    t = app.t
  })

  describe('who may manage factors', () => {
    test('anonymous callers are 401, other collections and superusers 403', async () => {
      await signUp('ann@example.com')
      await createAuthCollection('members')
      await signUp('max@example.com', 'members')
      const member = (await passwordSignIn('max@example.com', 'members')).json().token
      const routes = [
        { method: 'GET', url: `${users}/mfa` },
        { method: 'POST', url: `${users}/mfa/totp/setup` },
        { method: 'POST', url: `${users}/mfa/totp/confirm`, payload: { code: '123456' } },
        { method: 'DELETE', url: `${users}/mfa/totp`, payload: { code: '123456' } },
        { method: 'POST', url: `${users}/mfa/recovery-codes`, payload: { code: '123456' } },
      ] as const
      for (const route of routes) {
        const anonymous = await t.request({ ...route, auth: null })
        expect(anonymous.statusCode, route.url).toBe(401)
        expect((await t.request({ ...route, auth: member })).statusCode, route.url).toBe(403)
        expect((await t.request({ ...route })).statusCode, route.url).toBe(403)
      }
      expect(await t.app.plinth.dialect.db.selectFrom('_mfa_totp').selectAll().execute()).toHaveLength(0)
    })
  })

  describe('bad input', () => {
    const authWithMfaCases = [
      { name: 'malformed JSON', body: '{"mfaId": ', status: 400 },
      { name: 'an array', body: '[]', status: 400 },
      { name: 'mfaId of the wrong type', payload: { mfaId: 5, code: '123456' }, status: 400 },
      { name: 'code as a number', payload: { code: 123456 }, status: 400 },
      { name: 'a short code', payload: { code: '12345' }, status: 400 },
      { name: 'letters in the code', payload: { code: '12345a' }, status: 400 },
      { name: 'an unknown field', payload: { code: 'RIGHT', admin: true }, status: 400 },
      { name: 'no proof', payload: {}, status: 400 },
      { name: 'two proofs', payload: { code: 'RIGHT', recoveryCode: 'abcde-fghij' }, status: 400 },
      { name: 'a passkey that is not an object', payload: { passkey: 'x' }, status: 400 },
      { name: 'an injection as mfaId', payload: { mfaId: "' OR 1=1 --", code: 'RIGHT' }, status: 400 },
      {
        name: 'an unknown mfaId',
        payload: { mfaId: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', code: 'RIGHT' },
        status: 401,
      },
    ]
    test.for(authWithMfaCases)('auth-with-mfa refuses $name and spends nothing', async (scenario) => {
      const { email, secret } = await enrolled()
      const mfaId = await mfaIdOf(email)
      const right = await codeFor(secret)
      const response =
        'body' in scenario
          ? await t.request({
              method: 'POST',
              url: `${users}/auth-with-mfa`,
              auth: null,
              headers: { 'content-type': 'application/json' },
              payload: scenario.body,
            })
          : await authWithMfa(
              JSON.parse(
                JSON.stringify({ mfaId, ...scenario.payload }).replaceAll('"RIGHT"', JSON.stringify(right)),
              ),
            )
      expect(response.statusCode).toBe(scenario.status)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).not.toHaveProperty('token')
      const challenge = await t.app.plinth.dialect.db
        .selectFrom('_mfa_challenges')
        .select('attempts')
        .where('id', '=', mfaId)
        .executeTakeFirstOrThrow()
      expect(Number(challenge.attempts)).toBe(0)
      expect((await authWithMfa({ mfaId, code: right })).statusCode).toBe(200)
    })

    const managementCases = [
      { name: 'confirm: malformed JSON', method: 'POST', path: 'mfa/totp/confirm', body: '{"code"' },
      {
        name: 'confirm: code as a number',
        method: 'POST',
        path: 'mfa/totp/confirm',
        payload: { code: 123456 },
      },
      { name: 'confirm: missing code', method: 'POST', path: 'mfa/totp/confirm', payload: {} },
      {
        name: 'confirm: unknown field',
        method: 'POST',
        path: 'mfa/totp/confirm',
        payload: { code: '123456', x: 1 },
      },
      { name: 'setup: unknown field', method: 'POST', path: 'mfa/totp/setup', payload: { secret: 'MINE' } },
      { name: 'setup: a string body', method: 'POST', path: 'mfa/totp/setup', payload: '"x"' },
      {
        name: 'disable: unknown field',
        method: 'DELETE',
        path: 'mfa/totp',
        payload: { code: '123456', why: 1 },
      },
      { name: 'disable: wrong type', method: 'DELETE', path: 'mfa/totp', payload: { recoveryCode: ['a'] } },
      { name: 'disable: a passkey', method: 'DELETE', path: 'mfa/totp', payload: { passkey: {} } },
      { name: 'recovery codes: no proof', method: 'POST', path: 'mfa/recovery-codes', payload: {} },
    ] as const
    test.for(managementCases)('$name is refused and changes nothing', async (scenario) => {
      const { token } = await enrolled()
      const before = await t.app.plinth.dialect.db.selectFrom('_mfa_totp').selectAll().execute()
      const codesBefore = await t.app.plinth.dialect.db
        .selectFrom('_mfa_recovery_codes')
        .selectAll()
        .execute()
      const body = 'body' in scenario ? scenario.body : JSON.stringify(scenario.payload)
      const response = await t.request({
        method: scenario.method,
        url: `${users}/${scenario.path}`,
        auth: token,
        headers: { 'content-type': 'application/json' },
        payload: body,
      })
      expect(response.statusCode).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(await t.app.plinth.dialect.db.selectFrom('_mfa_totp').selectAll().execute()).toEqual(before)
      expect(await t.app.plinth.dialect.db.selectFrom('_mfa_recovery_codes').selectAll().execute()).toEqual(
        codesBefore,
      )
    })
  })
})
