import { request as httpRequest, type IncomingMessage } from 'node:http'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { storedKeys } from '../test-support/files.js'
import { listen } from '../test-support/realtime-blog.js'

const BOUNDARY = 'plinth-stream-boundary'
const MB = 1024 * 1024

function filePartHead(field: string, filename: string): string {
  return `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`
}

/** A POST of a form whose body the test writes itself, chunk by chunk, as a slow client would. */
function openUpload(base: string, token: string) {
  let answer: (response: IncomingMessage) => void = () => {}
  const response = new Promise<IncomingMessage>((resolve) => {
    answer = resolve
  })
  const request = httpRequest(`${base}/api/collections/blobs/records`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
    },
  })
  request.on('response', answer)
  request.on('error', () => {})
  return { request, response }
}

async function bodyOf(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of response) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString()
}

describe.each(testDialects)('uploads stream on %s', (kind) => {
  let t: TestApp
  let base: string
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    base = await listen(t)
    await createCollection(t, {
      name: 'blobs',
      fields: [
        { name: 'small', type: 'file', maxSize: 100_000 },
        { name: 'large', type: 'file', maxSize: 1024 * MB },
      ],
    })
  })
  afterEach(async () => t?.close())

  test('a file over its limit is refused while it is still being sent, and nothing is kept', async () => {
    const { request, response } = openUpload(base, t.token)
    request.write(filePartHead('small', 'big.bin'))
    // Sent in pieces without ending the request: the answer must come before the client is done.
    for (let sent = 0; sent < 300_000; sent += 50_000) request.write(Buffer.alloc(50_000, 1))
    const answer = await response
    expect(answer.statusCode).toBe(400)
    const problem = JSON.parse(await bodyOf(answer))
    expect(problem.errors.small.code).toBe('file_too_large')
    expect(request.writableEnded).toBe(false)
    request.destroy()
    await t.app.plinth.jobs.drain()
    expect(await storedKeys(t)).toEqual([])
  })

  test('memory stays flat while a large file streams to storage', async () => {
    const size = 1024 * MB
    const { request, response } = openUpload(base, t.token)
    request.write(filePartHead('large', 'video.bin'))
    const chunk = Buffer.alloc(MB, 7)
    const before = process.memoryUsage().rss
    let peak = before
    for (let sent = 0; sent < size; sent += chunk.length) {
      // Waiting for drain keeps the client from buffering: only the server's memory is measured.
      if (!request.write(chunk)) await new Promise((resolve) => request.once('drain', resolve))
      peak = Math.max(peak, process.memoryUsage().rss)
    }
    request.end(`\r\n--${BOUNDARY}--\r\n`)
    const answer = await response
    const record = JSON.parse(await bodyOf(answer))
    expect(answer.statusCode, JSON.stringify(record)).toBe(201)
    // A gigabyte passes through; the process grows by a few chunks' worth, whatever the size.
    expect((peak - before) / MB).toBeLessThan(100)
    const head = await fetch(`${base}/api/files/blobs/${record.id}/${record.large}`, { method: 'HEAD' })
    expect(Number(head.headers.get('content-length'))).toBe(size)
  })
})
