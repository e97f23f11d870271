import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openStream, setSubscriptions } from '../test-support/realtime.js'
import { listen } from '../test-support/realtime-blog.js'

const POSTS = '/api/collections/posts/records'

type Json = Record<string, any>

/**
 * Every record a client receives names its collection by id and by name, as PocketBase
 * records do: its SDK builds file URLs from `collectionId`.
 */
describe.each(testDialects)('collectionId and collectionName on records on %s', (kind) => {
  let t: TestApp
  let ids: Record<string, string>
  let ann: { id: string; token: string; refreshToken: string; record: Json }

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    const users = await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [{ name: 'name', type: 'text' }],
      createRule: '',
      listRule: '',
      viewRule: '',
    })
    const tags = await createCollection(t, {
      name: 'tags',
      fields: [{ name: 'label', type: 'text' }],
      listRule: '',
      viewRule: '',
    })
    const posts = await createCollection(t, {
      name: 'posts',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'author', type: 'relation', collection: 'users', maxSelect: 1 },
        { name: 'tags', type: 'relation', collection: 'tags', maxSelect: 5 },
      ],
      listRule: '',
      viewRule: '',
      createRule: '@request.auth.id != ""',
      updateRule: 'author = @request.auth.id',
    })
    const titles = await createCollection(t, {
      name: 'titles',
      type: 'view',
      viewQuery: 'SELECT id, title FROM posts',
      listRule: '',
      viewRule: '',
    })
    ids = { users: users.id, tags: tags.id, posts: posts.id, titles: titles.id, _superusers: '' }
    const listed = await t.request({ method: 'GET', url: '/api/collections/_superusers' })
    ids._superusers = listed.json().id
    await signUp(t, 'ann@example.com')
    ann = (await passwordSignIn(t, 'ann@example.com')).json()
    ann.id = ann.record.id
  })
  afterEach(async () => t?.close())

  function expectNamed(record: Json, collection: string) {
    expect(record.collectionId, JSON.stringify(record)).toBe(ids[collection])
    expect(record.collectionName).toBe(collection)
  }

  async function newTag(label: string): Promise<Json> {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/tags/records',
      payload: { label },
    })
    expect(response.statusCode, response.body).toBe(201)
    return response.json()
  }

  async function newPost(payload: object): Promise<Json> {
    const response = await t.request({ method: 'POST', url: POSTS, auth: ann.token, payload })
    expect(response.statusCode, response.body).toBe(201)
    return response.json()
  }

  test('the collection id is the one the collections API shows, and never the same for two', () => {
    expect(new Set(Object.values(ids)).size).toBe(Object.keys(ids).length)
    for (const id of Object.values(ids)) expect(id).toBeTypeOf('string')
  })

  test('create, view, update, list and expand answers carry both, at every level', async () => {
    const [news, tech] = [await newTag('news'), await newTag('tech')]
    expectNamed(news, 'tags')
    const post = await newPost({ title: 'Hello', author: ann.id, tags: [news.id, tech.id] })
    expectNamed(post, 'posts')

    const viewed = await t.request({
      method: 'GET',
      url: `${POSTS}/${post.id}?expand=author,tags`,
      auth: null,
    })
    expectNamed(viewed.json(), 'posts')
    expectNamed(viewed.json().expand.author, 'users')
    for (const tag of viewed.json().expand.tags) expectNamed(tag, 'tags')

    const updated = await t.request({
      method: 'PATCH',
      url: `${POSTS}/${post.id}?expand=tags`,
      auth: ann.token,
      payload: { title: 'Hello again' },
    })
    expectNamed(updated.json(), 'posts')
    expectNamed(updated.json().expand.tags[0], 'tags')

    const listed = await t.request({ method: 'GET', url: `${POSTS}?expand=author`, auth: null })
    expectNamed(listed.json().items[0], 'posts')
    expectNamed(listed.json().items[0].expand.author, 'users')

    const view = await t.request({ method: 'GET', url: '/api/collections/titles/records', auth: null })
    expectNamed(view.json().items[0], 'titles')
  })

  test('batch answers carry both', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: '/api/collections/tags/records', body: { label: 'one' } },
          { method: 'POST', url: POSTS, body: { title: 'In a batch', author: ann.id } },
        ],
      },
    })
    expect(response.statusCode, response.body).toBe(200)
    const [tag, post] = response.json()
    expectNamed(tag.body, 'tags')
    expectNamed(post.body, 'posts')
  })

  test('sign-in, refresh and superuser answers carry both', async () => {
    expectNamed(ann.record, 'users')
    const rotated = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: null,
      payload: { refreshToken: ann.refreshToken },
    })
    expectNamed(rotated.json().record, 'users')
    const tokenOnly = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-refresh',
      auth: rotated.json().token,
    })
    expectNamed(tokenOnly.json().record, 'users')
    const superuser = await t.request({
      method: 'POST',
      url: '/api/collections/_superusers/auth-with-password',
      auth: null,
      payload: { identity: 'root@example.com', password: 'correct horse battery staple' },
    })
    expectNamed(superuser.json().record, '_superusers')
  })

  test('fields may ask for collectionId, and leaving it out leaves it out', async () => {
    const post = await newPost({ title: 'Narrow', author: ann.id })
    const only = await t.request({
      method: 'GET',
      url: `${POSTS}/${post.id}?fields=collectionId,title`,
      auth: null,
    })
    expect(only.json()).toEqual({ collectionId: ids.posts, title: 'Narrow' })
    const without = await t.request({ method: 'GET', url: `${POSTS}?fields=id`, auth: null })
    expect(without.json().items).toEqual([{ id: post.id }])
  })

  test('a body cannot set either: they are not fields', async () => {
    for (const payload of [
      { title: 'x', collectionId: ids.tags },
      { title: 'x', collectionName: 'tags' },
    ]) {
      const response = await t.request({ method: 'POST', url: POSTS, auth: ann.token, payload })
      expect(response.statusCode).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    const listed = await t.request({ method: 'GET', url: POSTS, auth: null })
    expect(listed.json().totalItems).toBe(0)
  })

  test('realtime events carry both, on the record and inside expand', async () => {
    const base = await listen(t)
    const stream = await openStream(base)
    const options = encodeURIComponent(JSON.stringify({ query: { expand: 'author' } }))
    const subscribed = await setSubscriptions(
      base,
      { clientId: stream.clientId, subscriptions: [`posts/*?options=${options}`] },
      ann.token,
    )
    expect(subscribed.status).toBe(204)
    const post = await newPost({ title: 'Live', author: ann.id })
    await t.request({ method: 'DELETE', url: `${POSTS}/${post.id}` })
    await stream.until(() => stream.events().length === 2)
    for (const event of stream.events()) {
      expectNamed(event.record, 'posts')
      expectNamed(event.record.expand.author, 'users')
    }
    expect(stream.events().map((event) => event.action)).toEqual(['create', 'delete'])
    stream.close()
  })
})
