import { beforeEach, describe, expect, test } from 'vitest'
import type { TestApp } from '../../test-support/app.js'
import { testDialects } from '../../test-support/databases.js'
import { advance, codeFor, totpApp, users } from '../../test-support/totp.js'

describe.each(testDialects)('TOTP and the MFA step of sign-in on %s', (kind) => {
  const app = totpApp(kind)
  const {
    createAuthCollection,
    signUp,
    passwordSignIn,
    signedIn,
    enrolled,
    mfaIdOf,
    authWithMfa,
    auditCount,
  } = app
  let t: TestApp
  beforeEach(() => {
    t = app.t
  })

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
})
