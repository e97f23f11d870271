import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { freshPostgresUrl, postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type ServerProcess, startServer } from '../test-support/server-process.js'

/**
 * The path a newcomer takes, against the real server process over real HTTP:
 * setup link → superuser → collections with a relation → records → queries →
 * batch rollback → idempotent retry → a schema change that fails and rolls back.
 */
describe.each(testDialects)('a newcomer on %s', (kind) => {
  let server: ServerProcess | undefined
  let cleanup: (() => Promise<void>) | undefined
  afterEach(async () => {
    server?.child.kill('SIGKILL')
    await cleanup?.()
  })

  test('goes from an empty folder to a working API', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-newcomer-'))
    const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
    cleanup = async () => {
      await postgres?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    }
    server = await startServer(['--dir', dataDir, ...(postgres ? ['--database-url', postgres.url] : [])])
    const base = server.url
    let token = ''
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null }
    }

    const setupToken = (await server.setupLink()).split('#token=')[1]
    const setup = await call('POST', '/api/setup', {
      token: setupToken,
      email: 'me@example.com',
      password: 'my long password',
      passwordConfirm: 'my long password',
    })
    expect(setup.status).toBe(201)
    const signIn = await call('POST', '/api/collections/_superusers/auth-with-password', {
      identity: 'me@example.com',
      password: 'my long password',
    })
    expect(signIn.status).toBe(200)
    token = signIn.body.token

    expect(
      (
        await call('POST', '/api/collections', {
          name: 'authors',
          fields: [{ name: 'name', type: 'text', required: true }],
        })
      ).status,
    ).toBe(201)
    const posts = await call('POST', '/api/collections', {
      name: 'posts',
      fields: [
        { name: 'title', type: 'text', required: true, max: 200 },
        { name: 'views', type: 'number', min: 0 },
        { name: 'author', type: 'relation', collection: 'authors', onDelete: 'cascade' },
      ],
      indexes: [{ fields: ['author', 'created'] }],
    })
    expect(posts.status).toBe(201)

    const ada = (await call('POST', '/api/collections/authors/records', { name: 'Ada' })).body
    const bob = (await call('POST', '/api/collections/authors/records', { name: 'Bob' })).body
    for (let i = 0; i < 12; i++) {
      const created = await call('POST', '/api/collections/posts/records', {
        title: `post ${i}`,
        views: i,
        author: i % 3 === 0 ? bob.id : ada.id,
      })
      expect(created.status).toBe(201)
    }

    const page = await call(
      'GET',
      `/api/collections/posts/records?${new URLSearchParams({ filter: 'author.name = "Ada" && views >= 2', sort: '-views', perPage: '3', page: '2', expand: 'author' })}`,
    )
    expect(page.status).toBe(200)
    expect(page.body).toMatchObject({ page: 2, perPage: 3, totalItems: 7, totalPages: 3 })
    expect(page.body.items.map((p: any) => p.views)).toEqual([7, 5, 4])
    expect(page.body.items[0].expand.author.name).toBe('Ada')

    const first = page.body.items[0]
    const view = await call('GET', `/api/collections/posts/records/${first.id}`)
    const etag = view.headers.get('etag')!
    expect(
      (await call('PATCH', `/api/collections/posts/records/${first.id}`, { views: 70 }, { 'if-match': etag }))
        .status,
    ).toBe(200)
    expect(
      (await call('PATCH', `/api/collections/posts/records/${first.id}`, { views: 71 }, { 'if-match': etag }))
        .status,
    ).toBe(412)

    const batch = await call('POST', '/api/batch', {
      requests: [
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'batched', author: ada.id } },
        { method: 'DELETE', url: `/api/collections/posts/records/${first.id}` },
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 42 } },
      ],
    })
    expect(batch.status).toBe(400)
    expect(batch.body.failedIndex).toBe(2)
    expect((await call('GET', '/api/collections/posts/records?perPage=1')).body.totalItems).toBe(12)

    const key = { 'idempotency-key': 'newcomer-1' }
    const once = await call('POST', '/api/collections/posts/records', { title: 'exactly once' }, key)
    const retry = await call('POST', '/api/collections/posts/records', { title: 'exactly once' }, key)
    expect(retry.body.id).toBe(once.body.id)
    expect((await call('GET', '/api/collections/posts/records?perPage=1')).body.totalItems).toBe(13)

    const before = (await call('GET', '/api/collections/posts')).body
    const failing = await call('PATCH', '/api/collections/posts', {
      fields: [...before.fields.filter((f: any) => !f.system), { name: 'summary', type: 'text' }],
      indexes: [{ fields: ['author'], unique: true }],
    })
    expect(failing.status).toBe(400)
    expect((await call('GET', '/api/collections/posts')).body).toEqual(before)
    expect((await call('GET', '/api/collections/posts/records?perPage=1')).body.totalItems).toBe(13)

    expect((await call('DELETE', `/api/collections/authors/records/${bob.id}`)).status).toBe(204)
    expect((await call('GET', '/api/collections/posts/records?perPage=1')).body.totalItems).toBe(9)
  })
})
