import { expect } from 'vitest'
import type { TestApp } from './app.js'

export const PASSWORD = 'user password 1'

interface AccountOptions {
  collection?: string
  password?: string
}

/** Signs up through the records API as a visitor would, and answers the new record's id. */
export async function signUp(t: TestApp, email: string, options: AccountOptions = {}): Promise<string> {
  const { collection = 'users', password = PASSWORD } = options
  const response = await t.request({
    method: 'POST',
    url: `/api/collections/${collection}/records`,
    auth: null,
    payload: { email, password, passwordConfirm: password },
  })
  expect(response.statusCode, response.body).toBe(201)
  return response.json().id
}

/** `auth-with-password`, answered as it is: tokens, an MFA challenge or an error. */
export function passwordSignIn(t: TestApp, identity: string, options: AccountOptions = {}) {
  const { collection = 'users', password = PASSWORD } = options
  return t.request({
    method: 'POST',
    url: `/api/collections/${collection}/auth-with-password`,
    auth: null,
    payload: { identity, password },
  })
}
