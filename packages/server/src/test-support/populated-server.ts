import { expect } from 'vitest'
import type { ServerProcess } from './server-process.js'

export const ADMIN_EMAIL = 'root@example.com'
export const ADMIN_PASSWORD = 'a long password 1'
export const MEMBER_EMAIL = 'ann@example.com'
export const MEMBER_PASSWORD = 'member password 1'

/** What a running server answered before a copy, to compare the copy's server with. */
export interface ServedState {
  collections: unknown
  lists: Record<string, unknown>
  /** The URL path and bytes of one stored file. */
  file: { path: string; bytes: string }
  /** The member's tokens, issued before the copy. */
  member: { token: string; refreshToken: string }
}

const LISTED = ['authors', 'members', 'posts'] as const

async function call(
  server: ServerProcess,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  let payload: FormData | string | undefined
  if (body instanceof FormData) payload = body
  else if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, body: payload })
  const text = await response.text()
  return { status: response.status, text, json: () => JSON.parse(text) }
}

async function created(server: ServerProcess, token: string | null, collection: string, body: unknown) {
  const answer = await call(server, 'POST', `/api/collections/${collection}/records`, token, body)
  expect(answer.status, answer.text).toBe(201)
  return answer.json() as { id: string } & Record<string, unknown>
}

/** Signs in through the records API's auth action; fails the test unless it answers tokens. */
export async function signIn(server: ServerProcess, collection: string, identity: string, password: string) {
  const answer = await call(server, 'POST', `/api/collections/${collection}/auth-with-password`, null, {
    identity,
    password,
  })
  expect(answer.status, answer.text).toBe(200)
  return answer.json() as { token: string; refreshToken: string }
}

/**
 * Fills a server through HTTP as an app would: collections with single, multiple and
 * self relations, an auth collection with a member who signed up, records and a stored file.
 * Answers the superuser's token.
 */
export async function populate(server: ServerProcess): Promise<string> {
  const { token } = await signIn(server, '_superusers', ADMIN_EMAIL, ADMIN_PASSWORD)
  const collections = [
    { name: 'authors', fields: [{ name: 'name', type: 'text', required: true }], listRule: '' },
    {
      name: 'members',
      type: 'auth',
      fields: [{ name: 'nickname', type: 'text' }],
      createRule: '',
      listRule: '@request.auth.id = id',
      viewRule: '@request.auth.id = id',
    },
    {
      name: 'posts',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'views', type: 'number' },
        { name: 'published', type: 'bool' },
        { name: 'meta', type: 'json' },
        { name: 'author', type: 'relation', collection: 'authors', onDelete: 'cascade' },
        { name: 'coauthors', type: 'relation', collection: 'authors', maxSelect: 3 },
        { name: 'parent', type: 'relation', collection: 'posts' },
        { name: 'cover', type: 'file' },
      ],
      indexes: [{ fields: ['title'], unique: true }],
      listRule: '',
      viewRule: '',
      search: { fields: ['title'] },
    },
  ]
  for (const collection of collections) {
    const answer = await call(server, 'POST', '/api/collections', token, collection)
    expect(answer.status, answer.text).toBe(201)
  }
  const authors = []
  for (const name of ['Ada', 'Grace', 'Edsger'])
    authors.push(await created(server, token, 'authors', { name }))
  let parent: string | null = null
  for (let i = 0; i < 6; i++) {
    const post = await created(server, token, 'posts', {
      title: `Post ${i}`,
      views: i * 1.5,
      published: i % 2 === 0,
      meta: { order: i, tags: ['a', 'b'], nested: { z: 1, a: 2 } },
      author: authors[i % 3]!.id,
      coauthors: [authors[(i + 1) % 3]!.id, authors[(i + 2) % 3]!.id],
      parent,
    })
    parent = post.id
  }
  const form = new FormData()
  form.append('title', 'With a cover')
  form.append('author', authors[0]!.id)
  form.append('cover', new Blob(['the bytes of a cover'], { type: 'text/plain' }), 'cover.txt')
  await created(server, token, 'posts', form)
  await created(server, null, 'members', {
    email: MEMBER_EMAIL,
    password: MEMBER_PASSWORD,
    passwordConfirm: MEMBER_PASSWORD,
    nickname: 'ann',
  })
  return token
}

/** Everything the comparison covers, read through HTTP. */
export async function servedState(server: ServerProcess, token: string): Promise<ServedState> {
  const collections = (await call(server, 'GET', '/api/collections', token)).json()
  const lists: Record<string, unknown> = {}
  for (const name of LISTED) {
    const answer = await call(
      server,
      'GET',
      `/api/collections/${name}/records?perPage=500&sort=created,id${name === 'posts' ? '&expand=author,coauthors,parent' : ''}`,
      token,
    )
    expect(answer.status, answer.text).toBe(200)
    lists[name] = answer.json()
  }
  const withCover = (lists.posts as { items: Array<{ id: string; cover: string }> }).items.find(
    (p) => p.cover,
  )!
  const path = `/api/files/posts/${withCover.id}/${withCover.cover}`
  const download = await call(server, 'GET', path, null)
  expect(download.status).toBe(200)
  const member = await signIn(server, 'members', MEMBER_EMAIL, MEMBER_PASSWORD)
  return { collections, lists, file: { path, bytes: download.text }, member }
}

/**
 * Checks that `server` answers as the original did: the same collections, lists and file, and
 * the member still signs in with the old password; `withTokens` also checks that the tokens
 * issued by the original are still good (same data folder secret and public URL).
 */
export async function expectSameState(
  server: ServerProcess,
  before: ServedState,
  options: { withTokens: boolean },
): Promise<void> {
  const { token } = await signIn(server, '_superusers', ADMIN_EMAIL, ADMIN_PASSWORD)
  const after = await servedState(server, token)
  expect(after.collections).toEqual(before.collections)
  expect(after.lists).toEqual(before.lists)
  expect(after.file.bytes).toBe('the bytes of a cover')
  const search = await call(server, 'GET', '/api/collections/posts/records?search=cover', null)
  expect(search.json().items.map((p: { title: string }) => p.title)).toEqual(['With a cover'])
  if (!options.withTokens) return
  const mine = await call(server, 'GET', '/api/collections/members/records', before.member.token)
  expect(mine.status, mine.text).toBe(200)
  expect(mine.json().items.map((m: { email: string }) => m.email)).toEqual([MEMBER_EMAIL])
  const refreshed = await call(server, 'POST', '/api/collections/members/auth-refresh', null, {
    refreshToken: before.member.refreshToken,
  })
  expect(refreshed.status, refreshed.text).toBe(200)
}
