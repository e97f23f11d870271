import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
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

const SECRET = 'durability-secret-durability-secret-00'
const EMAIL = 'root@example.com'
const PASSWORD = 'durability password 1'

interface Deployment {
  args: string[]
  env: Record<string, string>
  dataDir: string
  databaseUrl: string | null
  cleanup: () => Promise<void>
}

async function prepare(kind: TestDialect): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-serve-'))
  const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
  const config = loadConfig(
    {},
    { dataDir, databaseUrl: postgres?.url ?? null, secret: SECRET, logLevel: 'silent' },
  )
  const plinth = await createCore(config)
  await plinth.collections.create({
    name: 'events',
    fields: [{ name: 'seq', type: 'number' }],
    createRule: null,
  })
  await upsertSuperuser(plinth.records, EMAIL, PASSWORD)
  await plinth.close()
  return {
    args: ['--dir', dataDir, ...(postgres ? ['--database-url', postgres.url] : [])],
    env: { PLINTH_SECRET: SECRET },
    dataDir,
    databaseUrl: postgres?.url ?? null,
    async cleanup() {
      await postgres?.drop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

async function signIn(server: ServerProcess): Promise<string> {
  const response = await fetch(`${server.url}/api/collections/_superusers/auth-with-password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ identity: EMAIL, password: PASSWORD }),
  })
  return ((await response.json()) as { token: string }).token
}

/** Writers that create records until stopped, remembering every id the server acknowledged. */
function writeLoad(server: ServerProcess, token: string, writers: number) {
  const acknowledged: string[] = []
  let running = true
  const loops = Array.from({ length: writers }, async (_, writer) => {
    for (let i = 0; running; i++) {
      try {
        const response = await fetch(`${server.url}/api/collections/events/records`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ seq: writer * 1_000_000 + i }),
        })
        if (response.status === 201) acknowledged.push(((await response.json()) as { id: string }).id)
        else if (response.status === 503) return // draining: a well-behaved client goes elsewhere
      } catch {
        return // the server is gone
      }
    }
  })
  return {
    acknowledged,
    stop: async () => {
      running = false
      await Promise.all(loops)
    },
  }
}

async function storedIds(deployment: Deployment): Promise<Set<string>> {
  const config = loadConfig(
    {},
    { dataDir: deployment.dataDir, databaseUrl: deployment.databaseUrl, secret: SECRET, logLevel: 'silent' },
  )
  const plinth = await createCore(config)
  try {
    const rows = await plinth.dialect.db.selectFrom('events').select('id').execute()
    return new Set(rows.map((row) => row.id as string))
  } finally {
    await plinth.close()
  }
}

describe.each(testDialects)('the server process on %s', (kind) => {
  let deployment: Deployment | undefined
  let server: ServerProcess | undefined
  afterEach(async () => {
    server?.child.kill('SIGKILL')
    await deployment?.cleanup()
    server = undefined
    deployment = undefined
  })

  test('SIGKILL under write load loses no acknowledged write', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    deployment = await prepare(kind)
    server = await startServer(deployment.args, deployment.env)
    const load = writeLoad(server, await signIn(server), 8)
    while (load.acknowledged.length < 200) await new Promise((resolve) => setTimeout(resolve, 10))
    server.child.kill('SIGKILL')
    await server.exited
    await load.stop()
    const stored = await storedIds(deployment)
    expect(load.acknowledged.length).toBeGreaterThanOrEqual(200)
    expect(load.acknowledged.filter((id) => !stored.has(id))).toEqual([])
    if (kind === 'sqlite') {
      const database = new Database(join(deployment.dataDir, 'data.db'))
      expect(database.pragma('integrity_check', { simple: true })).toBe('ok')
      database.close()
    }
  })

  test('SIGTERM drains: readiness fails, in-flight writes finish, the process exits 0', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    deployment = await prepare(kind)
    server = await startServer(deployment.args, deployment.env)
    const load = writeLoad(server, await signIn(server), 4)
    while (load.acknowledged.length < 50) await new Promise((resolve) => setTimeout(resolve, 10))
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    await load.stop()
    const stored = await storedIds(deployment)
    expect(load.acknowledged.filter((id) => !stored.has(id))).toEqual([])
    expect(server.output()).toContain('draining')
  })

  test('prints a one-time setup link when no superuser exists', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-setup-'))
    const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
    deployment = {
      args: ['--dir', dataDir, ...(postgres ? ['--database-url', postgres.url] : [])],
      env: {},
      dataDir,
      databaseUrl: postgres?.url ?? null,
      async cleanup() {
        await postgres?.drop()
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
    server = await startServer(deployment.args)
    const link = await server.setupLink()
    const page = await fetch(link.split('#')[0]!)
    expect(page.headers.get('content-type')).toContain('text/html')
    const token = link.split('#token=')[1]
    const body = {
      token,
      email: 'first@example.com',
      password: 'first password 1',
      passwordConfirm: 'first password 1',
    }
    const setup = await fetch(`${server.url}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(setup.status).toBe(201)
    expect(((await setup.json()) as { token: string }).token).toBeTypeOf('string')
    const again = await fetch(`${server.url}/api/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(again.status).toBe(409)
    expect(server.output()).not.toContain(body.password)
  })
})
