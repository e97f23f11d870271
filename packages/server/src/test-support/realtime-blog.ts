import type { AddressInfo } from 'node:net'
import { expect } from 'vitest'
import { PASSWORD, passwordSignIn, signUp } from './accounts.js'
import type { TestApp } from './app.js'
import { createCollection } from './blog.js'

/**
 * The schema realtime tests share: users; posts their owner sees, or everyone once
 * public, with a hidden field; notes whose rule follows a relation (so its
 * related rows are read).
 */
export async function setupRealtimeBlog(t: TestApp) {
  await createCollection(t, {
    name: 'users',
    type: 'auth',
    fields: [{ name: 'name', type: 'text' }],
    createRule: '',
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    updateRule: 'id = @request.auth.id',
  })
  const ownerOrPublic = 'owner = @request.auth.id || public = true'
  await createCollection(t, {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'public', type: 'bool' },
      { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      { name: 'secret', type: 'text', hidden: true },
    ],
    listRule: ownerOrPublic,
    viewRule: ownerOrPublic,
    createRule: '@request.auth.id != ""',
    updateRule: 'owner = @request.auth.id',
    deleteRule: 'owner = @request.auth.id',
  })
  const throughRelation = 'owner.email = @request.auth.email'
  await createCollection(t, {
    name: 'notes',
    fields: [
      { name: 'text', type: 'text' },
      { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
    ],
    listRule: throughRelation,
    viewRule: throughRelation,
    createRule: '@request.auth.id != ""',
    updateRule: throughRelation,
    deleteRule: throughRelation,
  })
  const alice = await account(t, 'alice@example.com')
  const bob = await account(t, 'bob@example.com')
  return { alice, bob }
}

export async function account(t: TestApp, email: string) {
  const id = await signUp(t, email)
  const signIn = await passwordSignIn(t, email, { password: PASSWORD })
  expect(signIn.statusCode, signIn.body).toBe(200)
  return { id, email, token: signIn.json().token as string }
}

/** Listens on a free port of 127.0.0.1 and answers the base URL: SSE and WebSockets need real sockets. */
export async function listen(t: TestApp): Promise<string> {
  await t.app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = t.app.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

/** A write through the API as the given caller, checked to succeed. */
export async function write(
  t: TestApp,
  method: 'POST' | 'PATCH' | 'DELETE',
  url: string,
  token: string,
  payload?: object,
): Promise<Record<string, any>> {
  const response = await t.request({ method, url, auth: token, ...(payload ? { payload } : {}) })
  expect(response.statusCode, response.body).toBeLessThan(300)
  return response.body ? response.json() : {}
}
