import { NobleCryptoPlugin, ScureBase32Plugin, TOTP } from 'otplib'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { defaultRateLimits } from '../../config/index.js'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'

const users = '/api/collections/users'
const PASSWORD = 'user password 1'
const authenticator = new TOTP({ crypto: new NobleCryptoPlugin(), base32: new ScureBase32Plugin() })

/** The code an authenticator app shows now (or `offset` seconds from now). */
const codeFor = (secret: string, offset = 0) =>
  authenticator.generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset })

/** Moves the faked clock on; 30 s is one TOTP step. */
const advance = (ms: number) => vi.setSystemTime(Date.now() + ms)

describe.each(testDialects)('TOTP and the MFA step of sign-in on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2031-05-01T10:00:05Z') })
    t = await createTestApp(kind, { rateLimits: { ...defaultRateLimits, enabled: false } })
    await createAuthCollection('users')
  })
  afterEach(async () => {
    await t?.close()
    vi.useRealTimers()
  })

  async function createAuthCollection(name: string, options: object = {}) {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name, type: 'auth', createRule: '', options },
    })
    expect(response.statusCode, response.body).toBe(201)
  }

  async function signUp(email: string, collection = 'users') {
    const response = await t.request({
      method: 'POST',
      url: `/api/collections/${collection}/records`,
      auth: null,
      payload: { email, password: PASSWORD, passwordConfirm: PASSWORD },
    })
    expect(response.statusCode, response.body).toBe(201)
    return response.json() as { id: string }
  }

  const passwordSignIn = (email: string, collection = 'users') =>
    t.request({
      method: 'POST',
      url: `/api/collections/${collection}/auth-with-password`,
      auth: null,
      payload: { identity: email, password: PASSWORD },
    })

  async function signedIn(email: string): Promise<string> {
    const response = await passwordSignIn(email)
    expect(response.statusCode, response.body).toBe(200)
    return response.json().token
  }

  /** Signs up, signs in and turns TOTP on. */
  async function enrolled(email = 'ann@example.com') {
    await signUp(email)
    const token = await signedIn(email)
    const setup = await t.request({ method: 'POST', url: `${users}/mfa/totp/setup`, auth: token })
    expect(setup.statusCode, setup.body).toBe(200)
    const { secret } = setup.json()
    const confirm = await t.request({
      method: 'POST',
      url: `${users}/mfa/totp/confirm`,
      auth: token,
      payload: { code: await codeFor(secret) },
    })
    expect(confirm.statusCode, confirm.body).toBe(200)
    // The confirming code's step is spent; the next sign-in uses the next step.
    advance(30_000)
    return { email, token, secret: secret as string, recoveryCodes: confirm.json().recoveryCodes as string[] }
  }

  async function mfaIdOf(email: string): Promise<string> {
    const response = await passwordSignIn(email)
    expect(response.statusCode, response.body).toBe(200)
    const body = response.json()
    expect(body).not.toHaveProperty('token')
    expect(body).not.toHaveProperty('refreshToken')
    return body.mfaId
  }

  const authWithMfa = (payload: unknown, collection = 'users') =>
    t.request({
      method: 'POST',
      url: `/api/collections/${collection}/auth-with-mfa`,
      auth: null,
      payload: payload as object,
    })

  const auditCount = async (event: string) =>
    (await t.request({ method: 'GET', url: `/api/audit?event=${event}` })).json().totalItems

  test('enrolment is pending until confirmed, then sign-in asks for the code', async () => {
    await signUp('ann@example.com')
    const token = await signedIn('ann@example.com')
    const setup = await t.request({ method: 'POST', url: `${users}/mfa/totp/setup`, auth: token })
    expect(setup.statusCode, setup.body).toBe(200)
    const { secret, otpauthURL } = setup.json()
    expect(secret).toMatch(/^[A-Z2-7]{32}$/)
    const uri = new URL(otpauthURL)
    expect(uri.protocol).toBe('otpauth:')
    expect(uri.searchParams.get('secret')).toBe(secret)
    expect(decodeURIComponent(uri.pathname)).toContain('ann@example.com')

    // Pending: the password alone still signs in.
    expect((await passwordSignIn('ann@example.com')).json()).toHaveProperty('token')
    const wrong = await t.request({
      method: 'POST',
      url: `${users}/mfa/totp/confirm`,
      auth: token,
      payload: { code: (await codeFor(secret, 300)) === '000000' ? '111111' : '000000' },
    })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json().type).toBe('urn:plinth:error:invalid_credentials')

    const confirm = await t.request({
      method: 'POST',
      url: `${users}/mfa/totp/confirm`,
      auth: token,
      payload: { code: await codeFor(secret) },
    })
    expect(confirm.statusCode, confirm.body).toBe(200)
    const { recoveryCodes } = confirm.json()
    expect(recoveryCodes).toHaveLength(10)
    expect(new Set(recoveryCodes).size).toBe(10)
    for (const code of recoveryCodes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/)
    expect(await auditCount('mfa_enabled')).toBe(1)

    const status = await t.request({ method: 'GET', url: `${users}/mfa`, auth: token })
    expect(status.json()).toEqual({
      required: true,
      enrollmentRequired: false,
      totp: true,
      recoveryCodesLeft: 10,
      passkeys: 0,
    })
    // The secret is sealed at rest.
    const stored = await t.app.plinth.dialect.db.selectFrom('_mfa_totp').selectAll().execute()
    expect(JSON.stringify(stored)).not.toContain(secret)
    const hashes = await t.app.plinth.dialect.db.selectFrom('_mfa_recovery_codes').selectAll().execute()
    expect(JSON.stringify(hashes)).not.toContain(recoveryCodes[0])

    advance(30_000)
    const mfaId = await mfaIdOf('ann@example.com')
    const passed = await authWithMfa({ mfaId, code: await codeFor(secret) })
    expect(passed.statusCode, passed.body).toBe(200)
    const { token: second, record } = passed.json()
    expect(record.email).toBe('ann@example.com')
    expect((await t.request({ method: 'GET', url: '/api/auth/sessions', auth: second })).statusCode).toBe(200)
  })

  test('a code is accepted once: the replay is refused, the next step passes', async () => {
    const { email, secret } = await enrolled()
    const code = await codeFor(secret)
    expect((await authWithMfa({ mfaId: await mfaIdOf(email), code })).statusCode).toBe(200)
    const replay = await authWithMfa({ mfaId: await mfaIdOf(email), code })
    expect(replay.statusCode).toBe(400)
    expect(replay.json().type).toBe('urn:plinth:error:invalid_credentials')
    advance(30_000)
    const next = await authWithMfa({ mfaId: await mfaIdOf(email), code: await codeFor(secret) })
    expect(next.statusCode, next.body).toBe(200)
  })

  test('one code sent at once to several challenges passes exactly one of them', async () => {
    const { email, secret } = await enrolled()
    const mfaIds = await Promise.all(Array.from({ length: 6 }, () => mfaIdOf(email)))
    const code = await codeFor(secret)
    const answers = await Promise.all(mfaIds.map((mfaId) => authWithMfa({ mfaId, code })))
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([200, 400, 400, 400, 400, 400])
  })

  test('one challenge answered several times at once issues one session', async () => {
    const { email, secret } = await enrolled()
    const mfaId = await mfaIdOf(email)
    const code = await codeFor(secret)
    const answers = await Promise.all(Array.from({ length: 6 }, () => authWithMfa({ mfaId, code })))
    expect(answers.filter((answer) => answer.statusCode === 200)).toHaveLength(1)
    for (const answer of answers) expect([200, 400, 401], answer.body).toContain(answer.statusCode)
  })

  test('five wrong codes end the challenge, even for the right code after them', async () => {
    const { email, secret } = await enrolled()
    const mfaId = await mfaIdOf(email)
    const right = await codeFor(secret)
    const wrong = right === '123456' ? '654321' : '123456'
    for (let attempt = 0; attempt < 5; attempt++) {
      const response = await authWithMfa({ mfaId, code: wrong })
      expect(response.statusCode).toBe(400)
    }
    const after = await authWithMfa({ mfaId, code: right })
    expect(after.statusCode).toBe(401)
    expect(after.json().type).toBe('urn:plinth:error:invalid_token')
    expect(await auditCount('mfa_failed')).toBe(5)
    // A new sign-in gets a new challenge, and the unspent code still works there.
    expect((await authWithMfa({ mfaId: await mfaIdOf(email), code: right })).statusCode).toBe(200)
  })

  test('failures add up across challenges: the tenth locks the second factor out', async () => {
    const { email, secret } = await enrolled()
    const right = await codeFor(secret)
    const wrong = right === '123456' ? '654321' : '123456'
    for (let round = 0; round < 2; round++) {
      const mfaId = await mfaIdOf(email)
      for (let attempt = 0; attempt < 5; attempt++)
        expect((await authWithMfa({ mfaId, code: wrong })).statusCode).toBe(400)
    }
    const locked = await authWithMfa({ mfaId: await mfaIdOf(email), code: right })
    expect(locked.statusCode).toBe(429)
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0)
    advance(15 * 60_000)
    expect((await authWithMfa({ mfaId: await mfaIdOf(email), code: await codeFor(secret) })).statusCode).toBe(
      200,
    )
  })

  test('a recovery code works once, in any case and spacing', async () => {
    const { email, token, recoveryCodes } = await enrolled()
    const [first] = recoveryCodes
    const typed = ` ${first!.toUpperCase().replace('-', ' ')} `
    const passed = await authWithMfa({ mfaId: await mfaIdOf(email), recoveryCode: typed })
    expect(passed.statusCode, passed.body).toBe(200)
    const again = await authWithMfa({ mfaId: await mfaIdOf(email), recoveryCode: first })
    expect(again.statusCode).toBe(400)
    expect(await auditCount('recovery_code_used')).toBe(1)
    const status = await t.request({ method: 'GET', url: `${users}/mfa`, auth: token })
    expect(status.json().recoveryCodesLeft).toBe(9)
  })

  test('an mfaId expires after five minutes', async () => {
    const { email, secret } = await enrolled()
    const mfaId = await mfaIdOf(email)
    advance(5 * 60_000 + 1000)
    const response = await authWithMfa({ mfaId, code: await codeFor(secret) })
    expect(response.statusCode).toBe(401)
    expect(response.json().type).toBe('urn:plinth:error:invalid_token')
  })

  test('an mfaId is good only in its own collection', async () => {
    const { email, secret } = await enrolled()
    await createAuthCollection('members')
    await t.request({ method: 'POST', url: '/api/collections', payload: { name: 'notes' } })
    const mfaId = await mfaIdOf(email)
    const code = await codeFor(secret)
    const elsewhere = await authWithMfa({ mfaId, code }, 'members')
    expect(elsewhere.statusCode).toBe(401)
    expect((await authWithMfa({ mfaId, code }, 'notes')).statusCode).toBe(404)
    expect((await authWithMfa({ mfaId, code }, 'missing')).statusCode).toBe(404)
    // Refusing it elsewhere spent nothing.
    expect((await authWithMfa({ mfaId, code })).statusCode).toBe(200)
  })

  test("one user's mfaId with another user's code does not pass", async () => {
    const ann = await enrolled('ann@example.com')
    const bob = await enrolled('bob@example.com')
    const response = await authWithMfa({ mfaId: await mfaIdOf(ann.email), code: await codeFor(bob.secret) })
    // Ann's and Bob's secrets differ, so Bob's code is only right by a one-in-a-million chance.
    expect(response.statusCode).toBe(400)
  })

  test('turning TOTP off needs a current code or a recovery code', async () => {
    const { email, token, secret, recoveryCodes } = await enrolled()
    const disable = (payload?: object) =>
      t.request({ method: 'DELETE', url: `${users}/mfa/totp`, auth: token, ...(payload ? { payload } : {}) })
    const right = await codeFor(secret)
    for (const payload of [
      undefined,
      {},
      { code: right === '123456' ? '654321' : '123456' },
      { recoveryCode: 'nope' },
    ]) {
      const response = await disable(payload)
      expect(response.statusCode, JSON.stringify(payload)).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect((await t.request({ method: 'GET', url: `${users}/mfa`, auth: token })).json().totp).toBe(true)
    expect((await disable({ recoveryCode: recoveryCodes[0] })).statusCode).toBe(204)
    expect(await auditCount('mfa_disabled')).toBe(1)
    expect((await passwordSignIn(email)).json()).toHaveProperty('token')
    expect((await disable({ code: await codeFor(secret) })).statusCode).toBe(404)
    const rows = await t.app.plinth.dialect.db.selectFrom('_mfa_recovery_codes').selectAll().execute()
    expect(rows).toHaveLength(0)
  })

  test('a second setup while TOTP is on is refused; a pending one is replaced', async () => {
    await signUp('ann@example.com')
    const token = await signedIn('ann@example.com')
    const setup = () => t.request({ method: 'POST', url: `${users}/mfa/totp/setup`, auth: token })
    const first = (await setup()).json().secret
    const second = (await setup()).json().secret
    expect(second).not.toBe(first)
    const stale = await t.request({
      method: 'POST',
      url: `${users}/mfa/totp/confirm`,
      auth: token,
      payload: { code: await codeFor(first) },
    })
    expect(stale.statusCode).toBe(400)
    const confirm = await t.request({
      method: 'POST',
      url: `${users}/mfa/totp/confirm`,
      auth: token,
      payload: { code: await codeFor(second) },
    })
    expect(confirm.statusCode).toBe(200)
    const again = await setup()
    expect(again.statusCode).toBe(409)
    expect(again.json().type).toBe('urn:plinth:error:mfa_already_enabled')
  })

  test('new recovery codes replace the old ones', async () => {
    const { token, secret, recoveryCodes } = await enrolled()
    const response = await t.request({
      method: 'POST',
      url: `${users}/mfa/recovery-codes`,
      auth: token,
      payload: { code: await codeFor(secret) },
    })
    expect(response.statusCode, response.body).toBe(200)
    const fresh = response.json().recoveryCodes
    expect(fresh).toHaveLength(10)
    expect(fresh).not.toContain(recoveryCodes[0])
    const old = await t.request({
      method: 'DELETE',
      url: `${users}/mfa/totp`,
      auth: token,
      payload: { recoveryCode: recoveryCodes[0] },
    })
    expect(old.statusCode).toBe(400)
  })

  test('a collection requiring MFA flags records that have not enrolled yet', async () => {
    await createAuthCollection('staff', { mfa: { required: true } })
    await signUp('sam@example.com', 'staff')
    const response = await passwordSignIn('sam@example.com', 'staff')
    expect(response.statusCode).toBe(200)
    const body = response.json()
    expect(body.token).toBeTypeOf('string')
    expect(body.mfaEnrollmentRequired).toBe(true)
    const status = await t.request({ method: 'GET', url: '/api/collections/staff/mfa', auth: body.token })
    expect(status.json()).toMatchObject({ required: true, enrollmentRequired: true, totp: false })
    // A collection without the option answers as before.
    await signUp('ann@example.com')
    expect((await passwordSignIn('ann@example.com')).json()).not.toHaveProperty('mfaEnrollmentRequired')
  })

  test('deleting a record removes its factors', async () => {
    const { token } = await enrolled()
    const me = (await t.request({ method: 'GET', url: '/api/auth/sessions', auth: token })).statusCode
    expect(me).toBe(200)
    const id = (await t.app.plinth.dialect.db.selectFrom('users').select('id').executeTakeFirstOrThrow()).id
    expect((await t.request({ method: 'DELETE', url: `${users}/records/${id}` })).statusCode).toBe(204)
    expect(await t.app.plinth.dialect.db.selectFrom('_mfa_totp').selectAll().execute()).toHaveLength(0)
    expect(
      await t.app.plinth.dialect.db.selectFrom('_mfa_recovery_codes').selectAll().execute(),
    ).toHaveLength(0)
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
