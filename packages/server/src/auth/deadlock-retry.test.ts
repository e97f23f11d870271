import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const users = '/api/collections/users'
const PASSWORD = 'user password 1'

describe.each(testDialects)('auth writes lost to a deadlock on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'users', type: 'auth', createRule: '' },
    })
    const signUp = await t.request({
      method: 'POST',
      url: `${users}/records`,
      auth: null,
      payload: { email: 'ann@example.com', password: PASSWORD, passwordConfirm: PASSWORD },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
  })
  afterEach(async () => t?.close())

  test('a refresh whose first attempt is a deadlock victim runs again and rotates once', async () => {
    const signIn = await t.request({
      method: 'POST',
      url: `${users}/auth-with-password`,
      auth: null,
      payload: { identity: 'ann@example.com', password: PASSWORD },
    })
    const { refreshToken } = signIn.json()
    // The first attempt does all its work, then loses as PostgreSQL's deadlock victim would:
    // rolled back, so the rerun spends the same refresh token again. SQLite runs one
    // transaction at a time and has no deadlock to lose; there the refresh runs once.
    const dialect = t.app.plinth.dialect
    const canDeadlock = dialect.supports.rowLocks
    const original = dialect.transaction.bind(dialect)
    let attempts = 0
    dialect.transaction = (work) =>
      original(async (trx) => {
        attempts++
        const result = await work(trx)
        if (attempts === 1 && canDeadlock)
          throw Object.assign(new Error('deadlock detected'), { code: '40P01' })
        return result
      })
    const refresh = (token: string) =>
      t.request({
        method: 'POST',
        url: `${users}/auth-refresh`,
        auth: null,
        payload: { refreshToken: token },
      })
    const rotated = await refresh(refreshToken)
    expect(rotated.statusCode, rotated.body).toBe(200)
    expect(attempts).toBe(canDeadlock ? 2 : 1)
    expect((await refresh(rotated.json().refreshToken)).statusCode).toBe(200)
  })
})
