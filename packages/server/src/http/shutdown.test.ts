import { PassThrough } from 'node:stream'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { sendForm } from '../test-support/files.js'
import { listen } from '../test-support/realtime-blog.js'

describe.each(testDialects)('closing a listening app on %s', (kind) => {
  let t: TestApp | undefined
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await t?.close()
  })

  test('an answer still streaming when close() begins does not hold its keep-alive connection open', async () => {
    const app = t!
    const base = await listen(app)
    await createCollection(app, { name: 'docs', fields: [{ name: 'attachments', type: 'file' }] })
    const created = await sendForm(app, 'POST', '/api/collections/docs/records', [
      ['attachments', { name: 'a.txt', bytes: 'all of it', type: 'text/plain' }],
    ])
    expect(created.statusCode, created.body).toBe(201)
    const { id, attachments } = created.json()

    // A file stream sends its last byte before it ends, so a client can hold the whole
    // answer while the server still counts the request as in flight.
    const held = new PassThrough()
    held.write('all of it')
    vi.spyOn(app.app.plinth.files.storage, 'read').mockResolvedValueOnce(held)
    const response = await fetch(`${base}/api/files/docs/${id}/${attachments}`)
    expect(await response.text()).toBe('all of it')

    const server = app.app.server
    const closeIdle = server.closeIdleConnections.bind(server)
    // The answer ends right after the connections idle at close() were closed.
    vi.spyOn(server, 'closeIdleConnections').mockImplementationOnce(() => {
      closeIdle()
      held.end()
    })
    t = undefined
    await app.close()
    expect(server.listening).toBe(false)
  })
})
