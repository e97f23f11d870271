import PocketBase, { ClientResponseError, type RecordModel } from 'pocketbase'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { PASSWORD, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { image, storedKeys } from '../test-support/files.js'
import { listen } from '../test-support/realtime-blog.js'

const owned = 'owner = @request.auth.id'

/** What a browser gets for a file URL, bytes included. */
async function download(url: string) {
  const response = await fetch(url)
  return { response, bytes: Buffer.from(await response.arrayBuffer()) }
}

const textFile = (name: string, body = `contents of ${name}`) =>
  new File([body], name, { type: 'text/plain' })

describe.each(testDialects)('the PocketBase JS SDK with file fields on %s', (kind) => {
  let t: TestApp
  let pb: PocketBase
  let png: Buffer

  /** Signs up a user through the API and signs a fresh SDK client in as them. */
  async function signedIn(email: string): Promise<PocketBase> {
    await signUp(t, email)
    const client = new PocketBase(pb.baseURL)
    client.autoCancellation(false)
    await client.collection('users').authWithPassword(email, PASSWORD)
    return client
  }

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    pb = new PocketBase(await listen(t))
    pb.autoCancellation(false)
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [],
      createRule: '',
      viewRule: 'id = @request.auth.id',
    })
    await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'cover', type: 'file', mimeTypes: ['image/*'], thumbs: ['40x30f'] },
        { name: 'attachments', type: 'file', maxSelect: 3 },
        { name: 'contract', type: 'file', protected: true },
        { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      ],
      listRule: owned,
      viewRule: owned,
      createRule: '@request.auth.id != ""',
      updateRule: owned,
      deleteRule: owned,
    })
    png = await image('png', 400, 300)
  })
  afterEach(async () => t?.close())

  test('create() with File values in a plain object stores them, and getURL() serves them', async () => {
    const alice = await signedIn('alice@example.com')
    const doc = await alice.collection('docs').create({
      title: 'Report',
      cover: new File([png], 'a.png', { type: 'image/png' }),
      attachments: [textFile('one.txt'), textFile('two.txt')],
      owner: alice.authStore.record!.id,
    })
    expect(doc).toMatchObject({ title: 'Report', collectionName: 'docs' })
    expect(doc.cover).toMatch(/^a_[a-z0-9]{16}\.png$/)
    expect(doc.attachments).toEqual([
      expect.stringMatching(/^one_[a-z0-9]{16}\.txt$/),
      expect.stringMatching(/^two_[a-z0-9]{16}\.txt$/),
    ])

    const cover = await download(alice.files.getURL(doc, doc.cover))
    expect(cover.response.status).toBe(200)
    expect(cover.response.headers.get('content-type')).toBe('image/png')
    expect(cover.bytes.equals(png)).toBe(true)
    const second = await download(alice.files.getURL(doc, doc.attachments[1]))
    expect(second.bytes.toString()).toBe('contents of two.txt')
  })

  test('create() with a FormData passes it through as the form, @jsonPayload included', async () => {
    const alice = await signedIn('alice@example.com')
    const form = new FormData()
    form.append('title', 'From a form')
    form.append('@jsonPayload', JSON.stringify({ owner: alice.authStore.record!.id }))
    form.append('cover', new File([png], 'photo.png', { type: 'image/png' }))
    form.append('attachments', textFile('a.txt'))
    form.append('attachments', textFile('b.txt'))
    const doc = await alice.collection('docs').create(form)
    expect(doc).toMatchObject({ title: 'From a form', owner: alice.authStore.record!.id })
    expect(doc.cover).toMatch(/^photo_[a-z0-9]{16}\.png$/)
    expect(doc.attachments).toHaveLength(2)
    expect(await alice.collection('docs').getOne(doc.id)).toMatchObject({
      cover: doc.cover,
      attachments: doc.attachments,
    })
  })

  test.each([
    ['a plain object (the removal goes as @jsonPayload)', 'object'],
    ['a FormData', 'form'],
  ] as const)(
    'update() with attachments+ and attachments- from %s appends and removes',
    async (_why, shape) => {
      const alice = await signedIn('alice@example.com')
      const doc = await alice.collection('docs').create({
        attachments: [textFile('a.txt'), textFile('b.txt')],
        owner: alice.authStore.record!.id,
      })
      const [a, b] = doc.attachments as string[]
      let body: FormData | Record<string, unknown>
      if (shape === 'object') body = { 'attachments+': [textFile('c.txt')], 'attachments-': [a] }
      else {
        body = new FormData()
        body.append('attachments+', textFile('c.txt'))
        body.append('attachments-', a!)
      }
      const updated = await alice.collection('docs').update(doc.id, body)
      expect(updated.attachments).toEqual([b, expect.stringMatching(/^c_[a-z0-9]{16}\.txt$/)])
      expect((await download(alice.files.getURL(updated, updated.attachments[1]))).bytes.toString()).toBe(
        'contents of c.txt',
      )
      expect((await fetch(alice.files.getURL(doc, a!))).status).toBe(404)
      await t.app.plinth.jobs.drain()
      const keys = await storedKeys(t)
      expect(keys).toHaveLength(2)
      expect(keys.some((key) => key.endsWith(a!))).toBe(false)
    },
  )

  test.each([
    ['a plain object', 'object'],
    ['a FormData', 'form'],
  ] as const)(
    'update() from %s with names and files under one key keeps the named files and adds the new',
    async (_why, shape) => {
      const alice = await signedIn('alice@example.com')
      const doc = await alice.collection('docs').create({
        cover: new File([png], 'a.png', { type: 'image/png' }),
        attachments: [textFile('a.txt'), textFile('b.txt')],
        owner: alice.authStore.record!.id,
      })
      const b = doc.attachments[1] as string
      let body: FormData | Record<string, unknown>
      if (shape === 'object') body = { attachments: [b, textFile('c.txt')], cover: '' }
      else {
        body = new FormData()
        body.append('attachments', b)
        body.append('attachments', textFile('c.txt'))
        body.append('cover', '')
      }
      const updated = await alice.collection('docs').update(doc.id, body)
      expect(updated.attachments).toEqual([b, expect.stringMatching(/^c_[a-z0-9]{16}\.txt$/)])
      expect(updated.cover).toBe('')
      await t.app.plinth.jobs.drain()
      expect(await storedKeys(t)).toHaveLength(2)
    },
  )

  test('getURL() with thumb serves a thumbnail of that size, made once and then kept', async () => {
    const alice = await signedIn('alice@example.com')
    const doc = await alice.collection('docs').create({
      cover: new File([png], 'a.png', { type: 'image/png' }),
      owner: alice.authStore.record!.id,
    })
    const url = alice.files.getURL(doc, doc.cover, { thumb: '100x100' })
    expect(url).toContain('thumb=100x100')
    for (let request = 0; request < 2; request++) {
      const thumb = await download(url)
      expect(thumb.response.status).toBe(200)
      expect(thumb.response.headers.get('content-type')).toBe('image/png')
      expect(await sharp(thumb.bytes).metadata()).toMatchObject({ format: 'png', width: 100, height: 100 })
    }
    const fitted = await download(alice.files.getURL(doc, doc.cover, { thumb: '40x30f' }))
    expect(await sharp(fitted.bytes).metadata()).toMatchObject({ width: 40, height: 30 })
    expect((await storedKeys(t)).filter((key) => key.includes('/thumbs/'))).toHaveLength(2)

    // A size the field does not list is answered with the original, as PocketBase answers it.
    const unlisted = await download(alice.files.getURL(doc, doc.cover, { thumb: '640x480' }))
    expect(unlisted.response.status).toBe(200)
    expect(unlisted.bytes.equals(png)).toBe(true)
  })

  test('getURL() with download: true serves the file as an attachment under its original name', async () => {
    const alice = await signedIn('alice@example.com')
    const doc = await alice.collection('docs').create({
      attachments: [textFile('Quarterly report.txt')],
      owner: alice.authStore.record!.id,
    })
    const url = alice.files.getURL(doc, doc.attachments[0], { download: true })
    expect(url).toContain('download=true')
    const saved = await download(url)
    expect(saved.response.status).toBe(200)
    expect(saved.response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="Quarterly report\.txt"/,
    )
    expect(saved.bytes.toString()).toBe('contents of Quarterly report.txt')
    const shown = await fetch(alice.files.getURL(doc, doc.attachments[0], { download: false }))
    expect(shown.headers.get('content-disposition')).toMatch(/^inline/)
  })

  test('a protected file opens with a token from getToken(), only for whom the view rule lets read it', async () => {
    const alice = await signedIn('alice@example.com')
    const bob = await signedIn('bob@example.com')
    const doc = await alice.collection('docs').create({
      contract: new File(['signed terms'], 'contract.txt', { type: 'text/plain' }),
      owner: alice.authStore.record!.id,
    })
    const bare = await fetch(alice.files.getURL(doc, doc.contract))
    expect(bare.status).toBe(401)

    const token = await alice.files.getToken()
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    const opened = await download(alice.files.getURL(doc, doc.contract, { token }))
    expect(opened.response.status).toBe(200)
    expect(opened.bytes.toString()).toBe('signed terms')
    expect(opened.response.headers.get('cache-control')).toBe('private, no-cache')
    const saved = await fetch(alice.files.getURL(doc, doc.contract, { token, download: true }))
    expect(saved.headers.get('content-disposition')).toBe('attachment; filename=contract.txt')

    const bobsToken = await bob.files.getToken()
    expect((await fetch(bob.files.getURL(doc, doc.contract, { token: bobsToken }))).status).toBe(404)
    // An access token is not a file token: the file URL takes only the short-lived kind.
    expect(
      (await fetch(alice.files.getURL(doc, doc.contract, { token: alice.authStore.token }))).status,
    ).toBe(401)
    // Files of an unprotected field need no token, whoever asks.
    const open = await alice.collection('docs').update(doc.id, { cover: new File([png], 'c.png') })
    expect((await fetch(new PocketBase(pb.baseURL).files.getURL(open, open.cover))).status).toBe(200)
  })

  test('getToken() without a signed-in user, and a refused upload, come back as ClientResponseError', async () => {
    const anonymous = new PocketBase(pb.baseURL)
    const noToken = await anonymous.files.getToken().catch((error: unknown) => error)
    expect(noToken).toBeInstanceOf(ClientResponseError)
    expect((noToken as ClientResponseError).status).toBe(401)

    const alice = await signedIn('alice@example.com')
    const refused = await alice
      .collection('docs')
      .create({ cover: textFile('not-an-image.png'), owner: alice.authStore.record!.id })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ClientResponseError)
    expect((refused as ClientResponseError).status).toBe(400)
    expect((refused as ClientResponseError).response.errors.cover.code).toBe('invalid_file_type')
    await t.app.plinth.jobs.drain()
    expect(await storedKeys(t)).toEqual([])
    expect((await alice.collection('docs').getList(1, 1)).totalItems).toBe(0)
  })

  test('a record from getOne() or getList() builds the same URLs as the one create() answered', async () => {
    const alice = await signedIn('alice@example.com')
    const created = await alice.collection('docs').create({
      cover: new File([png], 'a.png', { type: 'image/png' }),
      owner: alice.authStore.record!.id,
    })
    const [listed] = (await alice.collection('docs').getList(1, 10)).items as RecordModel[]
    const fetched = await alice.collection('docs').getOne(created.id)
    const urls = [created, listed!, fetched].map((record) => alice.files.getURL(record, record.cover))
    expect(new Set(urls).size).toBe(1)
    expect((await download(urls[0]!)).bytes.equals(png)).toBe(true)
  })

  test("update() from a FormData naming one kept file of a multiple field, beside another field's upload", async () => {
    const alice = await signedIn('alice@example.com')
    const doc = await alice.collection('docs').create({
      attachments: [textFile('a.txt'), textFile('b.txt')],
      owner: alice.authStore.record!.id,
    })
    const form = new FormData()
    form.append('attachments', doc.attachments[0])
    form.append('cover', new File([png], 'a.png', { type: 'image/png' }))
    const updated = await alice.collection('docs').update(doc.id, form)
    expect(updated.attachments).toEqual([doc.attachments[0]])
    expect(updated.cover).toMatch(/^a_[a-z0-9]{16}\.png$/)
  })
})
