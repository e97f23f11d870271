import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { text } from 'node:stream/consumers'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import sharp from 'sharp'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { loadConfig } from '../config/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { image, sendForm } from '../test-support/files.js'
import { listen } from '../test-support/realtime-blog.js'
import { type S3TestServer, startS3Server } from '../test-support/s3-server.js'

const DOCS = '/api/collections/docs/records'
const MB = 1024 * 1024
const textFile = (name: string, body = `contents of ${name}`) => ({ name, bytes: body, type: 'text/plain' })

/**
 * Posts a form of files of the given sizes over a socket in 64 KiB writes, as a network
 * delivers them (inject() would hand the server each file in one chunk), and stops
 * sending once the server has answered. A cover starts with a real PNG.
 */
async function postFiles(
  url: string,
  token: string,
  files: Array<[string, number]>,
  png: Buffer,
): Promise<{ status: number; body: Record<string, any> }> {
  const boundary = 'plinth-s3-boundary'
  const request = httpRequest(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    },
  })
  // The server closes the connection of a refused upload before the body is all sent.
  request.on('error', () => {})
  let answered = false
  const response = new Promise<IncomingMessage>((resolve) => {
    request.once('response', (answer) => {
      answered = true
      resolve(answer)
    })
  })
  const write = async (bytes: Buffer | string) => {
    if (!answered && !request.write(bytes)) await Promise.race([once(request, 'drain'), response])
  }
  const chunk = Buffer.alloc(64 * 1024, 1)
  for (const [n, [field, size]] of files.entries()) {
    await write(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="big-${n}.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    )
    if (field === 'cover') await write(png)
    for (let left = size; left > 0 && !answered; left -= chunk.length)
      await write(chunk.subarray(0, Math.min(left, chunk.length)))
    await write('\r\n')
  }
  if (!answered) request.end(`--${boundary}--\r\n`)
  const answer = await response
  const body = JSON.parse(await text(answer))
  request.destroy()
  return { status: answer.statusCode!, body }
}

describe.each(testDialects)('file fields on S3 (s3rver) with %s', (kind) => {
  let s3: S3TestServer
  let client: S3Client
  let t: TestApp
  let collectionId: string

  /** Every key in the bucket, read from S3 itself rather than through Plinth. */
  async function bucketKeys(): Promise<string[]> {
    const keys: string[] = []
    let token: string | undefined
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: s3.config.bucket, ContinuationToken: token }),
      )
      for (const object of page.Contents ?? []) keys.push(object.Key!)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return keys.sort()
  }

  async function objectBytes(key: string): Promise<Buffer> {
    const answer = await client.send(new GetObjectCommand({ Bucket: s3.config.bucket, Key: key }))
    return Buffer.from(await answer.Body!.transformToByteArray())
  }

  const settledKeys = async () => {
    await t.app.plinth.jobs.drain()
    return bucketKeys()
  }

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    // A server of its own per test: an empty bucket shows that nothing was left behind.
    s3 = await startS3Server()
    client = new S3Client({
      region: s3.config.region,
      endpoint: s3.config.endpoint!,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.config.accessKey, secretAccessKey: s3.config.secret },
    })
    t = await createTestApp(kind, {
      files: { ...loadConfig({}).files, s3: s3.config, maxUploadBytes: 23 * MB },
    })
    const docs = await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'cover', type: 'file', mimeTypes: ['image/*'], maxSize: 100_000 },
        { name: 'attachments', type: 'file', maxSelect: 3, maxSize: 22 * MB },
      ],
    })
    collectionId = docs.id
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await t?.close()
    client?.destroy()
    await s3?.close()
  })

  test('a multipart create stores its files as objects of the bucket, which are served whole and by range', async () => {
    const png = await image('png')
    const created = await sendForm(t, 'POST', DOCS, [
      ['title', 'On S3'],
      ['cover', { name: 'cover.png', bytes: png, type: 'image/png' }],
      ['attachments', textFile('notes.txt', '0123456789abcdef')],
    ])
    expect(created.statusCode, created.body).toBe(201)
    const doc = created.json()
    expect(t.app.plinth.files.storage.kind).toBe('s3')
    expect(await bucketKeys()).toEqual(
      [`${collectionId}/${doc.cover}`, `${collectionId}/${doc.attachments[0]}`].sort(),
    )
    expect((await objectBytes(`${collectionId}/${doc.cover}`)).equals(png)).toBe(true)

    const whole = await t.request({
      method: 'GET',
      url: `/api/files/docs/${doc.id}/${doc.cover}`,
      auth: null,
    })
    expect(whole.statusCode).toBe(200)
    expect(whole.headers['content-type']).toBe('image/png')
    expect(whole.headers['content-length']).toBe(String(png.length))
    expect(whole.rawPayload.equals(png)).toBe(true)

    const notes = `/api/files/docs/${doc.id}/${doc.attachments[0]}`
    const part = await t.request({ method: 'GET', url: notes, headers: { range: 'bytes=4-9' }, auth: null })
    expect(part.statusCode).toBe(206)
    expect(part.headers['content-range']).toBe('bytes 4-9/16')
    expect(part.body).toBe('456789')
    const tail = await t.request({ method: 'GET', url: notes, headers: { range: 'bytes=-3' }, auth: null })
    expect(tail.statusCode).toBe(206)
    expect(tail.body).toBe('def')
    const outside = await t.request({
      method: 'GET',
      url: notes,
      headers: { range: 'bytes=99-' },
      auth: null,
    })
    expect(outside.statusCode).toBe(416)
    expect(outside.headers['content-range']).toBe('bytes */16')
  })

  test('a thumbnail is made from the object, stored beside it in the bucket and served from there', async () => {
    const doc = (
      await sendForm(t, 'POST', DOCS, [
        ['cover', { name: 'photo.jpg', bytes: await image('jpeg', 320, 240), type: 'image/jpeg' }],
      ])
    ).json()
    const url = `/api/files/docs/${doc.id}/${doc.cover}?thumb=100x100`
    const first = await t.request({ method: 'GET', url, auth: null })
    expect(first.statusCode, first.body).toBe(200)
    expect(first.headers['content-type']).toBe('image/jpeg')
    expect(await sharp(first.rawPayload).metadata()).toMatchObject({
      format: 'jpeg',
      width: 100,
      height: 100,
    })
    const thumbKey = `${collectionId}/thumbs/${doc.cover}/100x100`
    expect(await bucketKeys()).toEqual([`${collectionId}/${doc.cover}`, thumbKey].sort())
    expect((await objectBytes(thumbKey)).equals(first.rawPayload)).toBe(true)

    const again = await t.request({ method: 'GET', url, auth: null })
    expect(again.statusCode).toBe(200)
    expect(again.rawPayload.equals(first.rawPayload)).toBe(true)
    const ranged = await t.request({ method: 'GET', url, headers: { range: 'bytes=0-9' }, auth: null })
    expect(ranged.statusCode).toBe(206)
    expect(ranged.rawPayload.equals(first.rawPayload.subarray(0, 10))).toBe(true)
    expect(await bucketKeys()).toHaveLength(2)
  })

  /** What reached S3 before the limit was crossed: no request, parts of an upload, or whole objects. */
  type Reached = 'nothing' | 'parts' | 'objects'
  const oversized: Array<[string, Array<[string, number]>, number, string, Reached]> = [
    [
      'a file over its field’s maxSize, refused in its first bytes',
      [['cover', 300_000]],
      400,
      'file_too_large',
      'nothing',
    ],
    // lib-storage holds at most four 5 MiB parts before one is sent: past 20 MiB a part has reached S3.
    [
      'a file over its field’s maxSize after parts of it reached S3',
      [['attachments', 30 * MB]],
      400,
      'file_too_large',
      'parts',
    ],
    [
      'files each within their field’s maxSize, together over the request’s upload limit',
      [
        ['attachments', 8 * MB],
        ['attachments', 8 * MB],
        ['attachments', 8 * MB],
      ],
      413,
      'body_too_large',
      'objects',
    ],
  ]
  test.each(oversized)('%s leaves no object in the bucket', async (_why, files, status, code, reached) => {
    const base = await listen(t)
    const sent = vi.spyOn(S3Client.prototype, 'send')
    const refused = await postFiles(`${base}${DOCS}`, t.token, files, await image('png'))
    expect(refused.status, JSON.stringify(refused.body)).toBe(status)
    const field = files[0]![0]
    if (status === 400) expect(refused.body.errors[field].code).toBe(code)
    else expect(refused.body.type).toBe(`urn:plinth:error:${code}`)
    const commands = sent.mock.calls.map(([command]) => command.constructor.name)
    expect(commands.includes('UploadPartCommand')).toBe(reached !== 'nothing')
    expect(commands.filter((name) => name === 'CompleteMultipartUploadCommand')).toHaveLength(
      reached === 'objects' ? 2 : 0,
    )
    expect(await settledKeys()).toEqual([])
    expect((await t.request({ method: 'GET', url: DOCS })).json().totalItems).toBe(0)
  })

  test('after a replace, a removal and a delete the cleanup job leaves no object behind, thumbnails included', async () => {
    const doc = (
      await sendForm(t, 'POST', DOCS, [
        ['cover', { name: 'one.png', bytes: await image('png', 200, 200), type: 'image/png' }],
        ['attachments', textFile('a.txt')],
        ['attachments', textFile('b.txt')],
      ])
    ).json()
    const thumb = await t.request({
      method: 'GET',
      url: `/api/files/docs/${doc.id}/${doc.cover}?thumb=100x100`,
      auth: null,
    })
    expect(thumb.statusCode).toBe(200)
    expect(await bucketKeys()).toHaveLength(4)

    const replaced = await sendForm(t, 'PATCH', `${DOCS}/${doc.id}`, [
      ['cover', { name: 'two.png', bytes: await image('png', 200, 200, 'blue'), type: 'image/png' }],
      ['attachments-', doc.attachments[0]],
    ])
    expect(replaced.statusCode, replaced.body).toBe(200)
    const current = replaced.json()
    expect(await settledKeys()).toEqual(
      [`${collectionId}/${current.cover}`, `${collectionId}/${doc.attachments[1]}`].sort(),
    )
    const gone = await t.request({ method: 'GET', url: `/api/files/docs/${doc.id}/${doc.cover}`, auth: null })
    expect(gone.statusCode).toBe(404)

    expect((await t.request({ method: 'DELETE', url: `${DOCS}/${doc.id}` })).statusCode).toBe(204)
    expect(await settledKeys()).toEqual([])
  })

  test('dropping the collection removes every object it stored', async () => {
    for (const name of ['a.txt', 'b.txt'])
      expect((await sendForm(t, 'POST', DOCS, [['attachments', textFile(name)]])).statusCode).toBe(201)
    expect(await bucketKeys()).toHaveLength(2)
    expect((await t.request({ method: 'DELETE', url: '/api/collections/docs' })).statusCode).toBe(204)
    expect(await settledKeys()).toEqual([])
  })
})
