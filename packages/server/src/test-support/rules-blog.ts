import { expect } from 'vitest'
import { PASSWORD } from './accounts.js'
import { createTestApp, type TestApp } from './app.js'
import type { TestDialect } from './databases.js'

export { PASSWORD }

/** The blog of the authorization tests: who may do what is written in these rules only. */
export const blogCollections = [
  {
    name: 'users',
    type: 'auth',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'role', type: 'select', values: ['member', 'admin'] },
      { name: 'team', type: 'relation', collection: 'teams', maxSelect: 1 },
    ],
    listRule: 'id = @request.auth.id',
    viewRule: 'id = @request.auth.id',
    createRule: '',
    updateRule: 'id = @request.auth.id && @request.body.role:isset = false',
    deleteRule: null,
  },
  {
    name: 'posts',
    fields: [
      { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      { name: 'title', type: 'text' },
      { name: 'published', type: 'bool' },
    ],
    listRule: 'published = true || owner = @request.auth.id',
    viewRule: 'published = true || owner = @request.auth.id',
    createRule: '@request.auth.id != "" && @request.body.owner = @request.auth.id',
    updateRule: 'owner = @request.auth.id',
    deleteRule: 'owner = @request.auth.id',
  },
  {
    name: 'comments',
    fields: [
      { name: 'post', type: 'relation', collection: 'posts', maxSelect: 1 },
      { name: 'author', type: 'relation', collection: 'users', maxSelect: 1 },
      { name: 'body', type: 'text' },
    ],
    listRule: 'post.published = true || post.owner = @request.auth.id',
    viewRule: 'post.published = true || post.owner = @request.auth.id',
    createRule: '@request.auth.id != "" && author = @request.auth.id',
    updateRule: 'author = @request.auth.id',
    deleteRule: 'author = @request.auth.id',
  },
  { name: 'secrets', fields: [{ name: 'code', type: 'text' }] },
  {
    name: 'notes',
    fields: [
      { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      { name: 'text', type: 'text' },
      { name: 'internal', type: 'text', hidden: true },
    ],
    listRule: '',
    viewRule: '',
    createRule: 'owner = @request.auth.id',
    updateRule: 'owner = @request.auth.id',
    deleteRule: 'owner = @request.auth.id',
  },
]

export interface User {
  id: string
  email: string
  token: string
}

export interface Blog {
  t: TestApp
  ann: User
  bob: User
  /** Seeded records by name: annPublic, annDraft, bobDraft (posts), onPublic, onAnnDraft, onBobDraft (comments), secret, note. */
  ids: Record<string, string>
}

export function url(collection: string, id?: string, query = ''): string {
  return `/api/collections/${collection}/records${id ? `/${id}` : ''}${query}`
}

export async function signUp(t: TestApp, email: string, extra: object = {}): Promise<User> {
  const created = await t.request({
    method: 'POST',
    url: url('users'),
    auth: null,
    payload: { email, password: PASSWORD, passwordConfirm: PASSWORD, name: email.split('@')[0], ...extra },
  })
  expect(created.statusCode, created.body).toBe(201)
  const signIn = await t.request({
    method: 'POST',
    url: '/api/collections/users/auth-with-password',
    auth: null,
    payload: { identity: email, password: PASSWORD },
  })
  expect(signIn.statusCode, signIn.body).toBe(200)
  return { id: created.json().id, email, token: signIn.json().token }
}

/** Creates a record as a superuser and returns its id. */
export async function seed(t: TestApp, collection: string, body: object): Promise<string> {
  const response = await t.request({ method: 'POST', url: url(collection), payload: body })
  expect(response.statusCode, response.body).toBe(201)
  return response.json().id
}

/** A record as a superuser sees it, or null when it does not exist. */
export async function stored(
  t: TestApp,
  collection: string,
  id: string,
): Promise<Record<string, any> | null> {
  const response = await t.request({ method: 'GET', url: url(collection, id) })
  return response.statusCode === 200 ? response.json() : null
}

export async function createBlog(kind: TestDialect): Promise<Blog> {
  const t = await createTestApp(kind)
  await t.request({
    method: 'POST',
    url: '/api/collections',
    payload: { name: 'teams', fields: [{ name: 'name', type: 'text' }] },
  })
  for (const payload of blogCollections) {
    const created = await t.request({ method: 'POST', url: '/api/collections', payload })
    expect(created.statusCode, created.body).toBe(201)
  }
  const ann = await signUp(t, 'ann@example.com')
  const bob = await signUp(t, 'bob@example.com')
  const ids: Record<string, string> = {}
  ids.annPublic = await seed(t, 'posts', { owner: ann.id, title: 'Ann public', published: true })
  ids.annDraft = await seed(t, 'posts', { owner: ann.id, title: 'Ann draft', published: false })
  ids.bobDraft = await seed(t, 'posts', { owner: bob.id, title: 'Bob draft', published: false })
  ids.onPublic = await seed(t, 'comments', { post: ids.annPublic, author: bob.id, body: 'nice' })
  ids.onAnnDraft = await seed(t, 'comments', {
    post: ids.annDraft,
    author: ann.id,
    body: 'a note on a draft',
  })
  ids.onBobDraft = await seed(t, 'comments', { post: ids.bobDraft, author: bob.id, body: 'mine' })
  ids.secret = await seed(t, 'secrets', { code: 'abc' })
  ids.note = await seed(t, 'notes', { owner: ann.id, text: 'hello', internal: 'classified' })
  return { t, ann, bob, ids }
}
