import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { createMailTestApp, type MailTestApp, post, signUp, tokenOf } from '../test-support/email-flows.js'
import { upsertSuperuser } from './index.js'

const NEW_PASSWORD = 'second password 2'

interface Account {
  collection: string
  email: string
  id: string
  password: string
}

/**
 * Every way a password is set; each one must end every session of the record. `upsert` is
 * the service behind `plinth superuser upsert`; cli.test.ts runs the command itself.
 */
const paths: Array<{
  name: string
  account: 'user' | 'superuser'
  change: (m: MailTestApp, a: Account, own: string) => Promise<void>
}> = [
  {
    name: 'the owner through the records API',
    account: 'user',
    async change(m, a, own) {
      const response = await m.t.request({
        method: 'PATCH',
        url: `/api/collections/users/records/${a.id}`,
        payload: { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
        auth: own,
      })
      expect(response.statusCode, response.body).toBe(200)
    },
  },
  {
    name: 'a superuser through the records API',
    account: 'user',
    async change(m, a) {
      const response = await m.t.request({
        method: 'PATCH',
        url: `/api/collections/users/records/${a.id}`,
        payload: { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
      })
      expect(response.statusCode, response.body).toBe(200)
    },
  },
  {
    name: 'confirm-password-reset',
    account: 'user',
    async change(m, a) {
      expect((await post(m.t, 'request-password-reset', { email: a.email })).statusCode).toBe(204)
      const token = tokenOf(await m.inbox.next(), `${m.t.config.publicUrl}/_/auth/confirm-password-reset`)
      const response = await post(m.t, 'confirm-password-reset', {
        token,
        password: NEW_PASSWORD,
        passwordConfirm: NEW_PASSWORD,
      })
      expect(response.statusCode, response.body).toBe(204)
    },
  },
  {
    name: 'superuser upsert',
    account: 'superuser',
    async change(m, a) {
      expect(await upsertSuperuser(m.t.app.plinth.records, a.email, NEW_PASSWORD)).toBe('updated')
    },
  },
]

describe.each(testDialects)('a new password on %s', (kind) => {
  let m: MailTestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(kind)
  })
  afterEach(async () => m?.close())

  async function account(kind: 'user' | 'superuser'): Promise<Account> {
    if (kind === 'superuser') {
      const password = 'a superuser password 1'
      await upsertSuperuser(m.t.app.plinth.records, 'second@example.com', password)
      return { collection: '_superusers', email: 'second@example.com', id: '', password }
    }
    const user = await signUp(m.t, 'ada@example.com')
    return { collection: 'users', email: 'ada@example.com', id: user.id, password: 'first password 1' }
  }

  // An endpoint any signed-in caller may read, so a 401 means the token itself was refused.
  const whoAmI = (token: string) => m.t.request({ method: 'GET', url: '/api/auth/sessions', auth: token })

  test.each(paths)(
    'set by $name ends every session and its tokens at once',
    async ({ account: kind, change }) => {
      const a = await account(kind)
      const sessions = []
      for (let i = 0; i < 2; i++) {
        const response = await post(
          m.t,
          'auth-with-password',
          { identity: a.email, password: a.password },
          null,
          a.collection,
        )
        expect(response.statusCode, response.body).toBe(200)
        sessions.push(response.json() as { token: string; refreshToken: string; record: { id: string } })
      }
      a.id = sessions[0]!.record.id
      // Verified once each, so this node holds them in its verified-token cache.
      for (const session of sessions) expect((await whoAmI(session.token)).statusCode).toBe(200)

      await change(m, a, sessions[0]!.token)

      for (const session of sessions) {
        expect((await whoAmI(session.token)).statusCode).toBe(401)
        const refresh = await post(
          m.t,
          'auth-refresh',
          { refreshToken: session.refreshToken },
          null,
          a.collection,
        )
        expect(refresh.statusCode).toBe(401)
      }
      const fresh = await post(
        m.t,
        'auth-with-password',
        { identity: a.email, password: NEW_PASSWORD },
        null,
        a.collection,
      )
      expect(fresh.statusCode, fresh.body).toBe(200)
      expect((await whoAmI(fresh.json().token)).statusCode).toBe(200)
    },
  )
})
