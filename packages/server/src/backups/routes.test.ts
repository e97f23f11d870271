import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const MISSING = 'plinth-backup-2020-01-01T00-00-00.000Z.tar.gz'
const badNames = [
  '__proto__',
  'constructor',
  'prototype',
  '..',
  '../data.db',
  '..%2F..%2Fdata.db',
  'plinth-backup-x.tar.gz',
  `${MISSING}.sh`,
  "x' or '1'='1",
]

/** A multipart/form-data body with one file part. */
function form(filename: string, bytes: Buffer, field = 'file') {
  const boundary = 'plinth-test-boundary'
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="${field}"; filename="${filename}"\r\ncontent-type: application/gzip\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ])
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } }
}

describe.each(testDialects)('/api/backups on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())

  const list = async () => {
    const answer = await t.request({ method: 'GET', url: '/api/backups' })
    expect(answer.statusCode, answer.body).toBe(200)
    return answer.json() as Array<{ name: string; size: number; created: string }>
  }
  const backUp = async () => {
    const answer = await t.request({ method: 'POST', url: '/api/backups' })
    expect(answer.statusCode, answer.body).toBe(201)
    return answer.json() as { name: string; size: number; created: string }
  }
  const backupsFolder = () => join(t.config.dataDir, 'backups')

  test('makes a backup now, lists it, downloads it and deletes it', async () => {
    await createCollection(t, { name: 'notes', fields: [{ name: 'text', type: 'text' }] })
    await createRecord(t, 'notes', { text: 'kept' })
    expect(await list()).toEqual([])

    const created = await backUp()
    expect(created.name).toMatch(/^plinth-backup-.*\.tar\.gz$/)
    expect(created.size).toBeGreaterThan(0)
    expect(new Date(created.created).toISOString()).toBe(created.created)
    expect(await list()).toEqual([created])

    const download = await t.request({ method: 'GET', url: `/api/backups/${created.name}` })
    expect(download.statusCode).toBe(200)
    expect(download.headers['content-type']).toBe('application/gzip')
    expect(download.headers['content-disposition']).toBe(`attachment; filename="${created.name}"`)
    expect(download.rawPayload.length).toBe(created.size)
    expect(download.rawPayload.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))

    const deleted = await t.request({ method: 'DELETE', url: `/api/backups/${created.name}` })
    expect(deleted.statusCode).toBe(204)
    expect(await list()).toEqual([])
    expect((await t.request({ method: 'GET', url: `/api/backups/${created.name}` })).statusCode).toBe(404)
    expect((await t.request({ method: 'DELETE', url: `/api/backups/${created.name}` })).statusCode).toBe(404)
  })

  test('a download link works with a superuser’s file token, not with a user’s', async () => {
    const { name } = await backUp()
    const token = (await t.request({ method: 'POST', url: '/api/files/token' })).json().token as string
    const linked = await t.request({ method: 'GET', url: `/api/backups/${name}?token=${token}`, auth: null })
    expect(linked.statusCode).toBe(200)
    expect(linked.headers['content-type']).toBe('application/gzip')

    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    const userToken = (await t.request({ method: 'POST', url: '/api/files/token', auth: user })).json()
      .token as string
    expect(
      (await t.request({ method: 'GET', url: `/api/backups/${name}?token=${userToken}`, auth: null }))
        .statusCode,
    ).toBe(403)
    // An access token is not a file token, and a forged one is no token.
    expect(
      (await t.request({ method: 'GET', url: `/api/backups/${name}?token=${t.token}`, auth: null }))
        .statusCode,
    ).toBe(401)
    expect(
      (await t.request({ method: 'GET', url: `/api/backups/${name}?token=nope`, auth: null })).statusCode,
    ).toBe(401)
  })

  test('an archive downloaded and uploaded again is kept; anything else is refused', async () => {
    const { name, size } = await backUp()
    const bytes = (await t.request({ method: 'GET', url: `/api/backups/${name}` })).rawPayload
    await t.request({ method: 'DELETE', url: `/api/backups/${name}` })

    const uploaded = await t.request({ method: 'POST', url: '/api/backups/upload', ...form(name, bytes) })
    expect(uploaded.statusCode, uploaded.body).toBe(201)
    expect(uploaded.json()).toMatchObject({ name, size })
    expect((await list()).map((b) => b.name)).toEqual([name])

    const again = await t.request({ method: 'POST', url: '/api/backups/upload', ...form(name, bytes) })
    expect(again.statusCode).toBe(400)
    expect(again.json().errors.file.code).toBe('exists')

    const damaged = Buffer.from(bytes)
    damaged[damaged.length - 20]! ^= 0xff
    for (const [filename, body, field, code] of [
      [MISSING, Buffer.from('not an archive'), 'file', 'invalid_backup'],
      [MISSING, damaged, 'file', 'invalid_backup'],
      ['backup.tar.gz', bytes, 'file', 'validation_failed'],
      ['__proto__', bytes, 'file', 'validation_failed'],
      ['../../data.db', bytes, 'file', 'validation_failed'],
      [MISSING, bytes, 'other', 'validation_failed'],
    ] as const) {
      const answer = await t.request({
        method: 'POST',
        url: '/api/backups/upload',
        ...form(filename, body, field),
      })
      expect(answer.statusCode, `${filename}: ${answer.body}`).toBe(400)
      expect(answer.headers['content-type']).toContain('application/problem+json')
      expect(answer.json().type).toBe(`urn:plinth:error:${code}`)
    }
    const json = await t.request({ method: 'POST', url: '/api/backups/upload', payload: { file: 'x' } })
    expect(json.statusCode).toBe(415)
    expect((await list()).map((b) => b.name)).toEqual([name])
    expect(readdirSync(backupsFolder()).filter((entry) => entry.startsWith('.'))).toEqual([])
  })

  test.for(badNames)('the name %j is refused on every endpoint, and changes nothing', async (bad) => {
    const { name } = await backUp()
    const path = `/api/backups/${encodeURIComponent(bad)}`
    for (const [method, url] of [
      ['GET', path],
      ['DELETE', path],
      ['POST', `${path}/restore`],
    ] as const) {
      const answer = await t.request({ method, url })
      expect([400, 404], `${method} ${url}: ${answer.body}`).toContain(answer.statusCode)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
    expect((await list()).map((b) => b.name)).toEqual([name])
  })

  test('a backup takes no options, and unknown query parameters are refused', async () => {
    for (const body of ['{"name":"mine"}', '{"__proto__":{"x":1}}', '{"constructor":1}', '[]', '"x"', '7']) {
      const answer = await t.request({
        method: 'POST',
        url: '/api/backups',
        body,
        headers: { 'content-type': 'application/json' },
      })
      expect(answer.statusCode, answer.body).toBe(400)
    }
    const malformed = await t.request({
      method: 'POST',
      url: '/api/backups',
      body: '{"name":',
      headers: { 'content-type': 'application/json' },
    })
    expect(malformed.statusCode).toBe(400)
    const huge = await t.request({
      method: 'POST',
      url: '/api/backups',
      payload: { x: 'y'.repeat(2 * 1024 * 1024) },
    })
    expect(huge.statusCode).toBe(413)
    expect((await t.request({ method: 'GET', url: '/api/backups?sort=name' })).statusCode).toBe(400)
    expect(await list()).toEqual([])
  })

  test('restoring needs a server that can restart itself; an app built alone refuses with 409', async () => {
    const { name } = await backUp()
    const answer = await t.request({ method: 'POST', url: `/api/backups/${name}/restore` })
    expect(answer.statusCode).toBe(409)
    expect(answer.json().type).toBe('urn:plinth:error:restore_unavailable')
    expect((await list()).map((b) => b.name)).toEqual([name])
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    const { name } = await backUp()
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    for (const [method, url] of [
      ['GET', '/api/backups'],
      ['GET', '/api/backups?nope=1'],
      ['POST', '/api/backups'],
      ['GET', `/api/backups/${name}`],
      ['DELETE', `/api/backups/${name}`],
      ['DELETE', '/api/backups/__proto__'],
      ['POST', `/api/backups/${name}/restore`],
      ['POST', '/api/backups/upload'],
    ] as const) {
      expect((await t.request({ method, url, auth: null })).statusCode, `${method} ${url}`).toBe(401)
      expect((await t.request({ method, url, auth: user })).statusCode, `${method} ${url}`).toBe(403)
    }
    expect((await list()).map((b) => b.name)).toEqual([name])
  })
})
