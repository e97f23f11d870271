import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { v7 as uuidv7 } from 'uuid'
import { afterEach, describe, expect, test } from 'vitest'
import { upsertSuperuser } from '../../auth/index.js'
import { loadConfig } from '../../config/index.js'
import { createCore } from '../../core/index.js'
import {
  freshPostgresUrl,
  postgresSkipReason,
  shouldSkip,
  testDialects,
} from '../../test-support/databases.js'
import { type ServerProcess, startServer } from '../../test-support/server-process.js'
import { type Receiver, startReceiver } from '../../test-support/webhook-receiver.js'

const SECRET = 'webhook-durability-secret-webhook-durability'
const EMAIL = 'root@example.com'
const PASSWORD = 'correct horse battery staple'
const SERVER_ENV = {
  PLINTH_SECRET: SECRET,
  PLINTH_LOG_LEVEL: 'warn',
  PLINTH_RATE_LIMITS: 'off',
  PLINTH_EVENTS_POLL_INTERVAL_MS: '20',
  // The killed node's hold on the webhooks consumer must run out before the restarted one delivers.
  PLINTH_EVENTS_LEASE_MS: '2000',
  PLINTH_WEBHOOKS_ALLOW_PRIVATE: 'true',
  PLINTH_WEBHOOKS_RETRY_BASE_MS: '50',
  PLINTH_WEBHOOKS_TIMEOUT_MS: '1000',
}
const WRITES = 240
const KILL_AFTER = 60

/**
 * The outbox's promise, end to end: a server killed with SIGKILL in the middle of a
 * write load, then started again on the same data, delivers every committed change
 * at least once, and nothing that was rolled back.
 */
describe.each(testDialects)('webhooks across a killed server on %s', (kind) => {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  test('every committed change reaches the endpoint, and no rolled-back one', {
    timeout: 180_000,
  }, async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-webhooks-'))
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
    const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
    if (postgres) cleanups.push(() => postgres.drop())
    const receiver: Receiver = await startReceiver()
    cleanups.push(() => receiver.close())
    const args = ['--dir', dataDir, ...(postgres ? ['--database-url', postgres.url] : [])]

    const core = await createCore(
      loadConfig(
        { PLINTH_WEBHOOKS_ALLOW_PRIVATE: 'true' },
        { dataDir, databaseUrl: postgres?.url ?? null, secret: SECRET, logLevel: 'silent' },
      ),
    )
    await core.collections.create({ name: 'authors', fields: [{ name: 'name', type: 'text' }] })
    await core.collections.create({
      name: 'posts',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'author', type: 'relation', collection: 'authors', maxSelect: 1, onDelete: 'cascade' },
      ],
      indexes: [{ fields: ['title'], unique: true }],
    })
    await upsertSuperuser(core.records, EMAIL, PASSWORD)
    await core.webhooks.service.create({
      url: receiver.url,
      collections: ['authors', 'posts'],
      actions: ['create', 'update', 'delete'],
    })
    await core.close()

    let server: ServerProcess = await startServer(args, SERVER_ENV)
    cleanups.push(() => {
      server.child.kill('SIGKILL')
    })
    const call = async (method: string, path: string, body?: unknown, token?: string) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return { status: response.status, body: (await response.json().catch(() => null)) as any }
    }
    const signIn = async () =>
      (
        await call('POST', '/api/collections/_superusers/auth-with-password', {
          identity: EMAIL,
          password: PASSWORD,
        })
      ).body.token as string
    let token = await signIn()

    const author = await call('POST', '/api/collections/authors/records', { name: 'Ada' }, token)
    expect(author.status).toBe(201)
    const acknowledged = new Set<string>([author.body.id])
    const refused = new Set<string>()
    let done = 0
    // Every fifth write repeats a title: the unique index refuses it and its transaction rolls back.
    const write = async (n: number) => {
      const id = uuidv7()
      const title = n % 5 === 4 ? `post ${n - 1}` : `post ${n}`
      try {
        const response = await call(
          'POST',
          '/api/collections/posts/records',
          { id, title, author: author.body.id },
          token,
        )
        if (response.status === 201) acknowledged.add(id)
        else if (response.status === 400) refused.add(id)
      } catch {
        // The server was killed with this request in flight: it may or may not have committed.
      }
      done++
    }
    const load = (async () => {
      const inFlight = new Set<Promise<void>>()
      for (let n = 0; n < WRITES; n++) {
        const running = write(n).finally(() => inFlight.delete(running))
        inFlight.add(running)
        if (inFlight.size >= 8) await Promise.race(inFlight)
      }
      await Promise.all(inFlight)
    })()
    while (done < KILL_AFTER) await new Promise((resolve) => setTimeout(resolve, 2))
    server.child.kill('SIGKILL')
    await server.exited
    await load
    expect(acknowledged.size).toBeGreaterThan(KILL_AFTER / 2)
    expect(refused.size).toBeGreaterThan(0)

    server = await startServer(args, SERVER_ENV)
    token = await signIn()
    const listed = await call(
      'GET',
      '/api/collections/posts/records?perPage=500&skipTotal=1',
      undefined,
      token,
    )
    const committed = new Set<string>(listed.body.items.map((post: { id: string }) => post.id))
    for (const id of acknowledged) if (id !== author.body.id) expect(committed.has(id)).toBe(true)
    // Removing the author removes its posts by cascade: a delete event each.
    expect(
      (await call('DELETE', `/api/collections/authors/records/${author.body.id}`, undefined, token)).status,
    ).toBe(204)

    const seen = (type: string) =>
      new Set(
        receiver
          .bodies()
          .filter((body) => body.type === type)
          .map((body) => body.data.record.id as string),
      )
    const deadline = Date.now() + 120_000
    const missing = () => {
      const created = seen('record.created')
      const deleted = seen('record.deleted')
      return [
        ...[...committed, ...acknowledged].filter((id) => !created.has(id)),
        ...[...committed, author.body.id].filter((id) => !deleted.has(id)),
      ]
    }
    while (missing().length > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50))
    expect(missing()).toEqual([])
    const delivered = new Set(receiver.bodies().map((body) => body.data.record.id as string))
    expect([...refused].filter((id) => delivered.has(id))).toEqual([])
    // Nothing is delivered that never existed: each record delivered was committed.
    expect([...delivered].filter((id) => !committed.has(id) && id !== author.body.id)).toEqual([])
  })
})
