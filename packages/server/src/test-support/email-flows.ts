import { expect } from 'vitest'
import type { PlinthConfig } from '../config/index.js'
import { createTestApp, type TestApp } from './app.js'
import { createCollection } from './blog.js'
import type { TestDialect } from './databases.js'
import { type ReceivedMail, SmtpInbox } from './smtp-inbox.js'

export const USER_PASSWORD = 'first password 1'

/** An auth collection anyone may sign up to, with one-time codes on. */
export const usersDefinition = {
  name: 'users',
  type: 'auth',
  fields: [{ name: 'name', type: 'text', max: 100 }],
  listRule: 'id = @request.auth.id',
  viewRule: 'id = @request.auth.id',
  createRule: '',
  updateRule: 'id = @request.auth.id',
  deleteRule: null,
  options: { otp: { enabled: true } },
}

/** A test app that sends its mails to a real SMTP server running in the test. */
export interface MailTestApp {
  t: TestApp
  inbox: SmtpInbox
  /** Lets the queued mails go out, then closes the app: afterwards `inbox.received` is complete. */
  settle(): Promise<void>
  close(): Promise<void>
}

export async function createMailTestApp(
  kind: TestDialect,
  overrides: Partial<PlinthConfig> = {},
  definition: object = usersDefinition,
): Promise<MailTestApp> {
  const inbox = await SmtpInbox.start()
  const t = await createTestApp(kind, { smtpUrl: inbox.url, ...overrides })
  await createCollection(t, definition)
  let closed = false
  const settle = async () => {
    if (closed) return
    closed = true
    await t.app.plinth.jobs.drain()
    await t.close()
  }
  return {
    t,
    inbox,
    settle,
    async close() {
      await settle()
      await inbox.close()
    },
  }
}

export function post(
  t: TestApp,
  action: string,
  payload: unknown,
  auth: string | null = null,
  collection = 'users',
) {
  return t.request({
    method: 'POST',
    url: `/api/collections/${collection}/${action}`,
    payload: payload as object,
    auth,
  })
}

export async function signUp(
  t: TestApp,
  email: string,
  password = USER_PASSWORD,
): Promise<Record<string, any>> {
  const response = await t.request({
    method: 'POST',
    url: '/api/collections/users/records',
    payload: { email, password, passwordConfirm: password },
    auth: null,
  })
  expect(response.statusCode, response.body).toBe(201)
  return response.json()
}

export async function signIn(
  t: TestApp,
  email: string,
  password = USER_PASSWORD,
): Promise<{ token: string; refreshToken: string; record: Record<string, any> }> {
  const response = await post(t, 'auth-with-password', { identity: email, password })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

/** The token of the link in a mail, checking the link's shape on the way. */
export function tokenOf(mail: ReceivedMail, base: string, collection = 'users'): string {
  const escaped = base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const match = new RegExp(`${escaped}#token=([A-Za-z0-9_-]{20,})&collection=${collection}(\\s|$)`, 'm').exec(
    mail.text,
  )
  expect(match, mail.text).not.toBeNull()
  return match![1]!
}

export function codeOf(mail: ReceivedMail): string {
  const match = /^(\d{6,10})\r?$/m.exec(mail.text)
  expect(match, mail.text).not.toBeNull()
  return match![1]!
}

/** The record as a superuser sees it. */
export async function userRecord(t: TestApp, id: string): Promise<Record<string, any>> {
  const response = await t.request({ method: 'GET', url: `/api/collections/users/records/${id}` })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

export async function countTokens(t: TestApp): Promise<number> {
  const row = await t.app.plinth.dialect.db
    .selectFrom('_auth_tokens')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** A problem answer, with the request id taken out so two can be compared. */
export function comparable(response: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  const body = response.body === '' ? '' : { ...JSON.parse(response.body), instance: '' }
  return { status: response.statusCode, type: response.headers['content-type'] ?? null, body }
}
