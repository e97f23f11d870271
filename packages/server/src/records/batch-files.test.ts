import PocketBase, { ClientResponseError } from 'pocketbase'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { PASSWORD, passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type FilePart, image, sendForm, storedKeys, textPart } from '../test-support/files.js'
import { listen } from '../test-support/realtime-blog.js'

const DOCS = '/api/collections/docs/records'
const UPLOAD_LIMIT = 100_000
const MAX_PARTS = 12

const textFile = (name: string) => new File([`contents of ${name}`], name, { type: 'text/plain' })

/**
 * `POST /api/batch` as multipart/form-data, as the PocketBase SDK sends a batch with files:
 * `@jsonPayload` holds the requests, and file parts are named `requests.<index>.<field>`.
 */
describe.each(testDialects)('batches with files on %s', (kind) => {
  let t: TestApp
  let png: Buffer
  let alice: { id: string; token: string }
  let bob: { id: string; token: string }

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, { files: { maxUploadBytes: UPLOAD_LIMIT, maxParts: MAX_PARTS } })
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      createRule: '',
      viewRule: 'id = @request.auth.id',
    })
    const owned = 'owner = @request.auth.id'
    await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text', required: true },
        { name: 'cover', type: 'file', mimeTypes: ['image/*'] },
        { name: 'attachments', type: 'file', maxSelect: 3 },
        { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      ],
      listRule: owned,
      viewRule: owned,
      createRule: `@request.auth.id != "" && ${owned}`,
      updateRule: owned,
      deleteRule: owned,
    })
    png = await image('png', 40, 30)
    for (const [email, set] of [
      ['alice@example.com', (v: typeof alice) => (alice = v)],
      ['bob@example.com', (v: typeof bob) => (bob = v)],
    ] as const) {
      const id = await signUp(t, email)
      set({ id, token: (await passwordSignIn(t, email)).json().token })
    }
  })
  afterEach(async () => t?.close())

  /** What is left in storage once the cleanup jobs ran. */
  async function keptFiles(): Promise<string[]> {
    await t.app.plinth.jobs.drain()
    return storedKeys(t)
  }

  async function signedInClient(email: string): Promise<PocketBase> {
    const pb = new PocketBase(await listen(t))
    pb.autoCancellation(false)
    await pb.collection('users').authWithPassword(email, PASSWORD)
    return pb
  }

  const sendBatch = (
    requests: unknown,
    files: Array<[string, FilePart]>,
    auth: string | null = alice.token,
  ) => sendForm(t, 'POST', '/api/batch', [...files, ['@jsonPayload', JSON.stringify({ requests })]], auth)

  test('the SDK creates and updates records with files in one batch', async () => {
    const pb = await signedInClient('alice@example.com')
    const first = await pb.collection('docs').create({ title: 'Existing', owner: alice.id })
    const batch = pb.createBatch()
    batch.collection('docs').create({
      title: 'With cover',
      owner: alice.id,
      cover: new File([png], 'cover.png', { type: 'image/png' }),
      attachments: [textFile('a.txt'), textFile('b.txt')],
    })
    batch.collection('docs').update(first.id, { 'attachments+': [textFile('c.txt')] })
    const results = await batch.send()
    expect(results.map((result) => result.status)).toEqual([201, 200])
    const [created, updated] = results.map((result) => result.body)
    expect(created.cover).toMatch(/^cover_[a-z0-9]{16}\.png$/)
    expect(created.attachments).toEqual([
      expect.stringMatching(/^a_[a-z0-9]{16}\.txt$/),
      expect.stringMatching(/^b_[a-z0-9]{16}\.txt$/),
    ])
    expect(updated.attachments).toEqual([expect.stringMatching(/^c_[a-z0-9]{16}\.txt$/)])

    const cover = await fetch(pb.files.getURL(created, created.cover))
    expect(cover.status).toBe(200)
    expect(Buffer.from(await cover.arrayBuffer()).equals(png)).toBe(true)
    const attached = await fetch(pb.files.getURL(updated, updated.attachments[0]))
    expect(await attached.text()).toBe('contents of c.txt')
    expect(await keptFiles()).toHaveLength(4)
  })

  test('a failing request keeps nothing: no record, no file', async () => {
    const pb = await signedInClient('alice@example.com')
    const batch = pb.createBatch()
    batch.collection('docs').create({ title: 'Fine', owner: alice.id, attachments: [textFile('a.txt')] })
    batch
      .collection('docs')
      .create({ owner: alice.id, cover: new File([png], 'c.png', { type: 'image/png' }) })
    const error = (await batch.send().catch((e: unknown) => e)) as ClientResponseError
    expect(error).toBeInstanceOf(ClientResponseError)
    expect(error.status).toBe(400)
    expect(error.response).toMatchObject({ failedIndex: 1, data: { title: { code: 'required' } } })
    expect(await countRecords(t, 'docs')).toBe(0)
    expect(await keptFiles()).toEqual([])
  })

  test('a refused file names its request and field, and keeps nothing', async () => {
    const response = await sendBatch(
      [
        { method: 'POST', url: DOCS, body: { title: 'one', owner: alice.id } },
        { method: 'POST', url: DOCS, body: { title: 'two', owner: alice.id } },
      ],
      [
        ['requests.0.attachments', textPart('a.txt')],
        ['requests.1.cover', textPart('not-an-image.png')],
      ],
    )
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json()).toMatchObject({
      failedIndex: 1,
      errors: { cover: { code: 'invalid_file_type' } },
    })
    expect(await countRecords(t, 'docs')).toBe(0)
    expect(await keptFiles()).toEqual([])
  })

  test('a file kept by name and a new one join under one field', async () => {
    const created = await sendBatch(
      [{ method: 'POST', url: DOCS, body: { title: 'one', owner: alice.id } }],
      [['requests.0.attachments', textPart('a.txt')]],
    )
    expect(created.statusCode, created.body).toBe(200)
    const doc = created.json()[0].body
    const updated = await sendBatch(
      [{ method: 'PATCH', url: `${DOCS}/${doc.id}`, body: { attachments: doc.attachments } }],
      [['requests.0.attachments', textPart('b.txt')]],
    )
    expect(updated.statusCode, updated.body).toBe(200)
    expect(updated.json()[0].body.attachments).toEqual([
      doc.attachments[0],
      expect.stringMatching(/^b_[a-z0-9]{16}\.txt$/),
    ])
  })

  const refusals: Array<{
    name: string
    requests?: unknown
    payload?: string | null
    files?: Array<[string, FilePart]>
    extra?: Array<[string, string]>
    status: number
  }> = [
    {
      name: 'no @jsonPayload',
      payload: null,
      files: [['requests.0.attachments', textPart('a.txt')]],
      status: 400,
    },
    { name: 'malformed JSON in @jsonPayload', payload: '{"requests": [', status: 400 },
    { name: 'a prototype key in @jsonPayload', payload: '{"requests":[],"__proto__":{"x":1}}', status: 400 },
    {
      name: 'constructor in @jsonPayload',
      payload: '{"requests":[],"constructor":{"prototype":{}}}',
      status: 400,
    },
    { name: 'a @jsonPayload that is an array', payload: '[]', status: 400 },
    { name: 'requests of the wrong type', requests: 'all of them', status: 400 },
    {
      name: 'an unknown property of a request',
      requests: [{ method: 'POST', url: DOCS, nope: 1 }],
      status: 400,
    },
    {
      name: 'more requests than a batch takes',
      requests: Array.from({ length: 101 }, () => ({ method: 'POST', url: DOCS, body: { title: 'x' } })),
      status: 400,
    },
    { name: 'a text part besides @jsonPayload', extra: [['title', 'x']], status: 400 },
    { name: 'a second @jsonPayload', extra: [['@jsonPayload', '{"requests":[]}']], status: 400 },
    { name: 'a file part without a request', files: [['cover', textPart('a.txt')]], status: 400 },
    { name: 'a file part with a bad index', files: [['requests.x.cover', textPart('a.txt')]], status: 400 },
    { name: 'a file for __proto__', files: [['requests.0.__proto__', textPart('a.txt')]], status: 400 },
    { name: 'a file for constructor', files: [['requests.0.constructor', textPart('a.txt')]], status: 400 },
    {
      name: 'a file for a request that is not there',
      files: [['requests.5.attachments', textPart('a.txt')]],
      status: 400,
    },
    { name: 'a file for a text field', files: [['requests.0.title', textPart('a.txt')]], status: 400 },
    {
      name: 'an injection string as the file field',
      files: [["requests.0.x' OR 1=1 --", textPart('a.txt')]],
      status: 400,
    },
    {
      name: 'a file for a delete',
      requests: [{ method: 'DELETE', url: `${DOCS}/00000000-0000-7000-8000-000000000000` }],
      files: [['requests.0.attachments', textPart('a.txt')]],
      status: 400,
    },
    {
      name: 'a file for a request whose body is an array',
      requests: [{ method: 'POST', url: DOCS, body: [] }],
      files: [['requests.0.attachments', textPart('a.txt')]],
      status: 400,
    },
    {
      name: 'a file for another collection than its URL names',
      requests: [{ method: 'POST', url: '/api/collections/users/records', body: {} }],
      files: [['requests.0.attachments', textPart('a.txt')]],
      status: 400,
    },
    {
      name: 'files over the upload limit',
      files: [['requests.0.attachments', textPart('big.txt', 'x'.repeat(UPLOAD_LIMIT + 1))]],
      status: 413,
    },
    {
      name: 'more parts than the limit',
      files: Array.from({ length: MAX_PARTS + 1 }, (_, i) => [
        `requests.0.attachments`,
        textPart(`${i}.txt`),
      ]),
      status: 413,
    },
  ]

  test.each(refusals)('$name answers $status problem+json and keeps nothing', async (refusal) => {
    const requests = refusal.requests ?? [
      { method: 'POST', url: DOCS, body: { title: 'x', owner: alice.id } },
    ]
    const entries: Array<[string, string | FilePart]> = [...(refusal.files ?? []), ...(refusal.extra ?? [])]
    if (refusal.payload !== null)
      entries.push(['@jsonPayload', refusal.payload ?? JSON.stringify({ requests })])
    const response = await sendForm(t, 'POST', '/api/batch', entries, alice.token)
    expect(response.statusCode, response.body).toBe(refusal.status)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().message).toBe(response.json().detail)
    expect(await countRecords(t, 'docs')).toBe(0)
    expect(await keptFiles()).toEqual([])
  })

  describe('who may send files in a batch', () => {
    const createWithFile = (auth: string | null, owner: string) =>
      sendBatch(
        [{ method: 'POST', url: DOCS, body: { title: 'x', owner } }],
        [['requests.0.attachments', textPart('a.txt')]],
        auth,
      )

    test('anonymous: refused by the create rule, and no file is kept', async () => {
      const response = await createWithFile(null, alice.id)
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ failedIndex: 0, failedStatus: 403 })
      expect(await keptFiles()).toEqual([])
    })

    test('the owner and a superuser: stored', async () => {
      expect((await createWithFile(alice.token, alice.id)).statusCode).toBe(200)
      expect((await createWithFile(t.token, bob.id)).statusCode).toBe(200)
      expect(await keptFiles()).toHaveLength(2)
    })

    test("another user, for the owner's record: refused, and the record keeps its files", async () => {
      const created = await createWithFile(alice.token, alice.id)
      const doc = created.json()[0].body
      const asBob = await createWithFile(bob.token, alice.id)
      expect(asBob.statusCode).toBe(400)
      expect(asBob.json()).toMatchObject({ failedIndex: 0, failedStatus: 403 })
      const update = await sendBatch(
        [{ method: 'PATCH', url: `${DOCS}/${doc.id}`, body: {} }],
        [['requests.0.attachments+', textPart('b.txt')]],
        bob.token,
      )
      expect(update.statusCode).toBe(400)
      expect(update.json()).toMatchObject({ failedIndex: 0, failedStatus: 404 })
      const read = await t.request({ method: 'GET', url: `${DOCS}/${doc.id}`, auth: alice.token })
      expect(read.json().attachments).toEqual(doc.attachments)
      expect(await keptFiles()).toHaveLength(1)
    })
  })
})
