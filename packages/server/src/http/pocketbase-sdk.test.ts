import { EventSource } from 'eventsource'
import PocketBase, { ClientResponseError, type RecordModel, type RecordSubscription } from 'pocketbase'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { PASSWORD } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { image } from '../test-support/files.js'
import { until } from '../test-support/job-queues.js'
import { listen } from '../test-support/realtime-blog.js'

beforeAll(() => {
  // Node 20 has no EventSource; the SDK uses the global one, as in a browser.
  globalThis.EventSource ??= EventSource as unknown as typeof globalThis.EventSource
})

/**
 * The calls a PocketBase app makes, through the unchanged `pocketbase` SDK over a real
 * socket: records, sign-in and the email flows, files, realtime, batches, filters with
 * parameters, expand (back-relations included), sort and fields.
 */
describe.each(testDialects)('the PocketBase JS SDK, unchanged, on %s', (kind) => {
  let t: TestApp
  let base: string
  let pb: PocketBase
  let png: Buffer

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    base = await listen(t)
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [{ name: 'name', type: 'text' }],
      createRule: '',
      listRule: 'id = @request.auth.id',
      viewRule: '',
      updateRule: 'id = @request.auth.id',
    })
    const mine = 'author = @request.auth.id'
    await createCollection(t, {
      name: 'posts',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'views', type: 'number' },
        { name: 'author', type: 'relation', collection: 'users', maxSelect: 1 },
        { name: 'cover', type: 'file', mimeTypes: ['image/*'] },
        { name: 'contract', type: 'file', protected: true },
      ],
      listRule: '',
      viewRule: '',
      createRule: `@request.auth.id != "" && ${mine}`,
      updateRule: mine,
      deleteRule: mine,
    })
    await createCollection(t, {
      name: 'comments',
      fields: [
        { name: 'message', type: 'text' },
        { name: 'post', type: 'relation', collection: 'posts', maxSelect: 1, onDelete: 'cascade' },
      ],
      listRule: '',
      viewRule: '',
      createRule: '@request.auth.id != ""',
    })
    png = await image('png', 40, 30)
  })
  afterAll(async () => t?.close())
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    pb = new PocketBase(base)
    pb.autoCancellation(false)
  })

  /** A new user, signed up through the SDK, and a client signed in as them. */
  async function newUser(email: string, name: string): Promise<PocketBase> {
    await pb.collection('users').create({ email, name, password: PASSWORD, passwordConfirm: PASSWORD })
    const client = new PocketBase(base)
    client.autoCancellation(false)
    await client.collection('users').authWithPassword(email, PASSWORD)
    return client
  }

  test('records: create, getOne, getList, getFullList, getFirstListItem, update, delete', async () => {
    const ann = await newUser('ann@example.com', 'Ann')
    const me = ann.authStore.record!.id
    const titles = ['Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon']
    for (const [views, title] of titles.entries())
      await ann.collection('posts').create({ title, views, author: me })

    const created = await ann.collection('posts').create({ title: 'Zeta', views: 9, author: me })
    expect(created).toMatchObject({
      title: 'Zeta',
      collectionName: 'posts',
      collectionId: expect.any(String),
    })
    const one = await pb.collection('posts').getOne(created.id)
    expect(one).toEqual(created)

    const page = await pb.collection('posts').getList(1, 2, { sort: '-views' })
    expect(page).toMatchObject({ page: 1, perPage: 2, totalItems: 6, totalPages: 3 })
    expect(page.items.map((post) => post.title)).toEqual(['Zeta', 'Epsilon'])

    // getFullList asks for pages of 1,000; a batch of 2 pages through all of them.
    expect((await pb.collection('posts').getFullList({ sort: 'title' })).map((post) => post.title)).toEqual([
      'Alpha',
      'Beta',
      'Delta',
      'Epsilon',
      'Gamma',
      'Zeta',
    ])
    expect(await pb.collection('posts').getFullList({ batch: 2, sort: 'views' })).toHaveLength(6)

    const filter = pb.filter('title = {:title} && views >= {:min} && created <= {:now}', {
      title: 'Gamma',
      min: 1,
      now: new Date(Date.now() + 60_000),
    })
    expect((await pb.collection('posts').getFirstListItem(filter)).id).toBeTypeOf('string')
    const missing = await pb
      .collection('posts')
      .getFirstListItem(pb.filter('title = {:title}', { title: `it's "quoted" \\ ' OR 1=1 --` }))
      .catch((error: unknown) => error)
    expect((missing as ClientResponseError).status).toBe(404)

    const updated = await ann.collection('posts').update(created.id, { title: 'Zeta 2' })
    expect(updated.title).toBe('Zeta 2')
    const narrowed = await pb.collection('posts').getOne(created.id, { fields: 'id,title' })
    expect(narrowed).toEqual({ id: created.id, title: 'Zeta 2' })

    expect(await ann.collection('posts').delete(created.id)).toBe(true)
    const gone = await pb
      .collection('posts')
      .getOne(created.id)
      .catch((error: unknown) => error)
    expect(gone).toBeInstanceOf(ClientResponseError)
    expect((gone as ClientResponseError).status).toBe(404)
    expect((gone as ClientResponseError).message).toBe('The record was not found.')

    const invalid = await ann
      .collection('posts')
      .create({ views: 'many', author: me })
      .catch((error: unknown) => error)
    expect((invalid as ClientResponseError).response.data).toMatchObject({
      title: { code: expect.any(String) },
      views: { code: expect.any(String) },
    })
  })

  test('auth: authWithPassword, authRefresh, requestPasswordReset, requestVerification, listAuthMethods', async () => {
    await newUser('bob@example.com', 'Bob')
    const auth = await pb.collection('users').authWithPassword('bob@example.com', PASSWORD)
    expect(auth.record).toMatchObject({ email: 'bob@example.com', collectionName: 'users' })
    expect(pb.authStore.isValid).toBe(true)

    const refreshed = await pb.collection('users').authRefresh()
    expect(refreshed.record.id).toBe(auth.record.id)
    expect(refreshed.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    expect(pb.authStore.token).toBe(refreshed.token)
    // The refreshed token is the one the SDK sends from now on, and it is accepted.
    expect((await pb.collection('users').getList(1, 10)).items.map((user) => user.id)).toEqual([
      auth.record.id,
    ])

    expect(await pb.collection('users').requestPasswordReset('bob@example.com')).toBe(true)
    expect(await pb.collection('users').requestPasswordReset('nobody@example.com')).toBe(true)
    expect(await pb.collection('users').requestVerification('bob@example.com')).toBe(true)

    const methods = await pb.collection('users').listAuthMethods()
    expect(methods.password).toMatchObject({ enabled: true, identityFields: ['email'] })
    expect(methods.oauth2).toMatchObject({ enabled: false, providers: [] })

    pb.authStore.clear()
    const wrong = await pb
      .collection('users')
      .authWithPassword('bob@example.com', 'wrong password')
      .catch((error: unknown) => error)
    expect((wrong as ClientResponseError).status).toBe(400)
    expect((wrong as ClientResponseError).message).toBe('The identity or the password is wrong.')
  })

  test('files: create with a File, getURL, and getToken for a protected file', async () => {
    const cid = await newUser('cid@example.com', 'Cid')
    const post = await cid.collection('posts').create({
      title: 'With files',
      author: cid.authStore.record!.id,
      cover: new File([png], 'cover.png', { type: 'image/png' }),
      contract: new File(['terms'], 'contract.txt', { type: 'text/plain' }),
    })
    const cover = await fetch(pb.files.getURL(post, post.cover, { thumb: '100x100' }))
    expect(cover.status).toBe(200)
    expect(cover.headers.get('content-type')).toBe('image/png')
    expect((await fetch(pb.files.getURL(post, post.contract))).status).toBe(401)
    const token = await cid.files.getToken()
    const contract = await fetch(cid.files.getURL(post, post.contract, { token }))
    expect(await contract.text()).toBe('terms')
  })

  test('realtime: subscribe and unsubscribe', async () => {
    const dee = await newUser('dee@example.com', 'Dee')
    const events: RecordSubscription[] = []
    await dee.collection('posts').subscribe('*', (event) => events.push(event), { filter: 'views > 100' })
    const me = dee.authStore.record!.id
    await dee.collection('posts').create({ title: 'Quiet', views: 1, author: me })
    const loud = await dee.collection('posts').create({ title: 'Loud', views: 1000, author: me })
    await until(() => events.length === 1, 5000)
    expect(events[0]).toMatchObject({ action: 'create', record: { id: loud.id, collectionName: 'posts' } })
    await dee.collection('posts').unsubscribe('*')
    expect(dee.realtime.isConnected).toBe(false)
  })

  test('batch: all or nothing, with files', async () => {
    const eve = await newUser('eve@example.com', 'Eve')
    const me = eve.authStore.record!.id
    const batch = eve.createBatch()
    batch.collection('posts').create({ title: 'First of a batch', author: me })
    batch.collection('posts').create({
      title: 'Second, with a cover',
      author: me,
      cover: new File([png], 'b.png', { type: 'image/png' }),
    })
    const results = await batch.send()
    expect(results.map((result) => result.status)).toEqual([201, 201])
    expect(results[1]!.body.cover).toMatch(/^b_[a-z0-9]{16}\.png$/)

    const failing = eve.createBatch()
    failing.collection('posts').create({ title: 'Never kept', author: me })
    failing.collection('posts').create({ author: me })
    const error = (await failing.send().catch((e: unknown) => e)) as ClientResponseError
    expect(error.status).toBe(400)
    expect(error.response).toMatchObject({ failedIndex: 1, data: { title: { code: expect.any(String) } } })
    expect(await pb.collection('posts').getList(1, 1, { filter: 'title = "Never kept"' })).toMatchObject({
      totalItems: 0,
    })
  })

  test('expand: a relation, and the records pointing back', async () => {
    const fay = await newUser('fay@example.com', 'Fay')
    const post = await fay
      .collection('posts')
      .create({ title: 'Discussed', author: fay.authStore.record!.id })
    for (const message of ['first!', 'hi', 'thanks'])
      await fay.collection('comments').create({ message, post: post.id })
    const read = await pb
      .collection('posts')
      .getOne<RecordModel>(post.id, { expand: 'author,comments_via_post' })
    expect(read.expand?.author).toMatchObject({ id: fay.authStore.record!.id, name: 'Fay' })
    expect(read.expand?.comments_via_post.map((comment: RecordModel) => comment.message)).toEqual([
      'first!',
      'hi',
      'thanks',
    ])
    const found = await pb.collection('posts').getFullList({
      filter: pb.filter('comments_via_post.message ?~ {:word}', { word: 'thank' }),
      fields: 'id,title',
    })
    expect(found).toEqual([{ id: post.id, title: 'Discussed' }])
  })
})
