import { PASSWORD, passwordSignIn, signUp } from './accounts.js'
import type { TestApp } from './app.js'
import { createCollection, createRecord } from './blog.js'

/**
 * A blog whose records are reached backwards: comments point to posts (some hidden from
 * everyone but their author), tags to posts through a multi relation, one profile to each
 * user (a unique relation), drafts to posts (superusers only), and threads whose members
 * point to them and decide who may view them.
 */
export async function setupBackRelations(t: TestApp) {
  await createCollection(t, {
    name: 'users',
    type: 'auth',
    fields: [{ name: 'name', type: 'text' }],
    createRule: '',
    listRule: '',
    viewRule: '',
  })
  await createCollection(t, {
    name: 'posts',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collection: 'users', maxSelect: 1 },
    ],
    listRule: '',
    viewRule: '',
  })
  const shown = 'hidden = false || author = @request.auth.id'
  await createCollection(t, {
    name: 'comments',
    fields: [
      { name: 'message', type: 'text' },
      { name: 'post', type: 'relation', collection: 'posts', maxSelect: 1, onDelete: 'cascade' },
      { name: 'author', type: 'relation', collection: 'users', maxSelect: 1 },
      { name: 'hidden', type: 'bool' },
      { name: 'shadow', type: 'relation', collection: 'posts', maxSelect: 1, hidden: true },
    ],
    indexes: [{ fields: ['post'] }],
    listRule: shown,
    viewRule: shown,
    createRule: '@request.auth.id != ""',
  })
  await createCollection(t, {
    name: 'tags',
    fields: [
      { name: 'label', type: 'text' },
      { name: 'posts', type: 'relation', collection: 'posts', maxSelect: 5 },
    ],
    listRule: '',
    viewRule: '',
  })
  await createCollection(t, {
    name: 'profiles',
    fields: [
      { name: 'bio', type: 'text' },
      { name: 'user', type: 'relation', collection: 'users', maxSelect: 1 },
    ],
    indexes: [{ fields: ['user'], unique: true }],
    listRule: '',
    viewRule: '',
  })
  await createCollection(t, {
    name: 'drafts',
    fields: [
      { name: 'text', type: 'text' },
      { name: 'post', type: 'relation', collection: 'posts', maxSelect: 1 },
    ],
  })
  await createCollection(t, { name: 'threads', fields: [{ name: 'topic', type: 'text' }] })
  await createCollection(t, {
    name: 'members',
    fields: [
      { name: 'thread', type: 'relation', collection: 'threads', maxSelect: 1 },
      { name: 'user', type: 'relation', collection: 'users', maxSelect: 1 },
    ],
  })
  const seen = 'members_via_thread.user ?= @request.auth.id'
  const threadRules = await t.request({
    method: 'PATCH',
    url: '/api/collections/threads',
    payload: { listRule: seen, viewRule: seen },
  })
  if (threadRules.statusCode !== 200) throw new Error(`threads rules: ${threadRules.body}`)

  const user = async (email: string, name: string) => {
    const id = await signUp(t, email)
    await t.request({ method: 'PATCH', url: `/api/collections/users/records/${id}`, payload: { name } })
    const token = (await passwordSignIn(t, email, { password: PASSWORD })).json().token as string
    return { id, token }
  }
  const ann = await user('ann@example.com', 'Ann')
  const bob = await user('bob@example.com', 'Bob')
  const post = (title: string) => createRecord(t, 'posts', { title, author: ann.id })
  const hello = await post('Hello')
  const quiet = await post('Quiet')
  const busy = await post('Busy')
  const comment = (post: string, message: string, author: string, hidden = false, shadow?: string) =>
    createRecord(t, 'comments', { post, message, author, hidden, ...(shadow ? { shadow } : {}) })
  const comments = {
    hi: await comment(hello.id, 'hi there', bob.id),
    thanks: await comment(hello.id, 'thanks', ann.id, false, quiet.id),
    secret: await comment(busy.id, 'hi, privately', bob.id, true),
    busy1: await comment(busy.id, 'first', ann.id),
    busy2: await comment(busy.id, 'second', ann.id),
  }
  const news = await createRecord(t, 'tags', { label: 'news', posts: [hello.id, busy.id] })
  const tech = await createRecord(t, 'tags', { label: 'tech', posts: [busy.id] })
  const annProfile = await createRecord(t, 'profiles', { bio: 'writes a lot', user: ann.id })
  const draft = await createRecord(t, 'drafts', { text: 'unfinished', post: quiet.id })
  const annThread = await createRecord(t, 'threads', { topic: 'Ann only' })
  const sharedThread = await createRecord(t, 'threads', { topic: 'Shared' })
  await createRecord(t, 'members', { thread: annThread.id, user: ann.id })
  await createRecord(t, 'members', { thread: sharedThread.id, user: ann.id })
  await createRecord(t, 'members', { thread: sharedThread.id, user: bob.id })
  return {
    ann,
    bob,
    posts: { hello, quiet, busy },
    comments,
    tags: { news, tech },
    annProfile,
    draft,
    threads: { annThread, sharedThread },
  }
}

export type BackRelationBlog = Awaited<ReturnType<typeof setupBackRelations>>

/** Who reads the blog in a test: a guest, one of its two users, or the test superuser. */
export type BlogCaller = 'anonymous' | 'ann' | 'bob' | 'superuser'

/** The bearer token of a caller of the blog; null for a guest. */
export function tokenOf(t: TestApp, blog: BackRelationBlog, caller: BlogCaller): string | null {
  if (caller === 'anonymous') return null
  if (caller === 'superuser') return t.token
  return blog[caller].token
}
