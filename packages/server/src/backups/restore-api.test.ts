import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { upsertSuperuser } from '../auth/index.js'
import { loadConfig } from '../config/index.js'
import { createCore } from '../core/index.js'
import {
  freshPostgresUrl,
  postgresSkipReason,
  shouldSkip,
  type TestDialect,
  testDialects,
} from '../test-support/databases.js'
import { type ServerProcess, startServer } from '../test-support/server-process.js'

const SECRET = 'restore-api-secret-restore-api-secret-0'
const EMAIL = 'root@example.com'
const PASSWORD = 'restore password 1'

interface Deployment {
  args: string[]
  env: Record<string, string>
  dataDir: string
  cleanup: () => Promise<void>
}

/** A data folder (and PostgreSQL database) with a superuser and a collection of notes. */
async function prepare(kind: TestDialect): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-restore-api-'))
  const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
  const config = loadConfig(
    {},
    { dataDir, databaseUrl: postgres?.url ?? null, secret: SECRET, logLevel: 'silent' },
  )
  const core = await createCore(config)
  await core.collections.create({ name: 'notes', fields: [{ name: 'text', type: 'text' }] })
  await upsertSuperuser(core.records, EMAIL, PASSWORD)
  await core.close()
  return {
    args: ['--dir', dataDir, ...(postgres ? ['--database-url', postgres.url] : [])],
    env: { PLINTH_SECRET: SECRET },
    dataDir,
    async cleanup() {
      await postgres?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

describe.each(testDialects)('POST /api/backups/{name}/restore on a running server on %s', (kind) => {
  let deployment: Deployment | undefined
  let server: ServerProcess | undefined
  afterEach(async () => {
    server?.child.kill('SIGKILL')
    await deployment?.cleanup()
    server = undefined
    deployment = undefined
  })

  async function start() {
    deployment = await prepare(kind)
    server = await startServer(deployment.args, deployment.env)
    const signIn = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
    })
    const { token } = (await signIn.json()) as { token: string }
    const url = server.url
    return async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await response.text()
      return { status: response.status, body: text ? JSON.parse(text) : null }
    }
  }

  test('records changed after the backup are as they were once it is restored', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    const api = await start()
    const first = (await api('POST', '/api/collections/notes/records', { text: 'first' })).body
    const second = (await api('POST', '/api/collections/notes/records', { text: 'second' })).body
    const backup = await api('POST', '/api/backups')
    expect(backup.status).toBe(201)

    expect(
      (await api('PATCH', `/api/collections/notes/records/${first.id}`, { text: 'changed' })).status,
    ).toBe(200)
    expect((await api('DELETE', `/api/collections/notes/records/${second.id}`)).status).toBe(204)
    expect((await api('POST', '/api/collections/notes/records', { text: 'third' })).status).toBe(201)
    expect((await api('POST', '/api/collections', { name: 'later' })).status).toBe(201)

    const restore = await api('POST', `/api/backups/${backup.body.name}/restore`)
    expect(restore.status).toBe(202)
    expect(restore.body).toEqual({ name: backup.body.name })

    // The server closes, restores and starts again: wait for the old state to be served.
    const texts = async () => {
      try {
        const list = await api('GET', '/api/collections/notes/records?sort=created')
        return list.status === 200 ? list.body.items.map((note: { text: string }) => note.text) : null
      } catch {
        return null
      }
    }
    const deadline = Date.now() + 30_000
    while (JSON.stringify(await texts()) !== JSON.stringify(['first', 'second']) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await texts()).toEqual(['first', 'second'])
    expect((await api('GET', '/api/collections/later')).status).toBe(404)
    expect((await api('GET', '/api/backups')).body.map((b: { name: string }) => b.name)).toEqual([
      backup.body.name,
    ])
    expect(server!.output()).toContain('backup restored')
    // The restored server takes writes as before.
    expect((await api('POST', '/api/collections/notes/records', { text: 'after' })).status).toBe(201)
  })

  test('an archive that fails its check is refused before anything closes', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    const api = await start()
    await api('POST', '/api/collections/notes/records', { text: 'kept' })
    const folder = join(deployment!.dataDir, 'backups')
    mkdirSync(folder, { recursive: true })
    const forged = 'plinth-backup-2020-01-01T00-00-00.000Z.tar.gz'
    writeFileSync(join(folder, forged), 'not an archive')

    const refused = await api('POST', `/api/backups/${forged}/restore`)
    expect(refused.status).toBe(400)
    expect(refused.body.type).toBe('urn:plinth:error:invalid_backup')
    expect(refused.body.detail).not.toContain(deployment!.dataDir)
    const missing = await api('POST', '/api/backups/plinth-backup-2021-01-01T00-00-00.000Z.tar.gz/restore')
    expect(missing.status).toBe(404)
    expect((await api('POST', '/api/backups/..%2Fdata.db/restore')).status).toBe(400)
    const list = await api('GET', '/api/collections/notes/records')
    expect(list.body.items.map((note: { text: string }) => note.text)).toEqual(['kept'])
  })
})
