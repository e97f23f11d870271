import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, test } from 'vitest'
import { freshPostgresUrl, postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { BIN, NODE_FLAGS, type ServerProcess, startServer } from '../test-support/server-process.js'

const FLAG = '--disable-proto=delete'
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const startScript = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string

/** The command `npm start` runs after building: `node <flags> packages/server/bin/plinth.js serve`. */
function npmStartCommand(): string[] {
  const run = startScript.split('&&').at(-1)!.trim().split(/\s+/)
  expect(run[0]).toBe('node')
  expect(run.at(-1)).toBe('serve')
  return [process.execPath, ...run.slice(1, -2), join(ROOT, run.at(-2)!)]
}

/** What the operating system says the process was started with; no answer of the server is trusted. */
function commandLineOf(server: ServerProcess): string[] {
  return readFileSync(`/proc/${server.child.pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
}

describe('the Node flags Plinth runs with', () => {
  test('bin/plinth.js and npm start pass --disable-proto=delete', () => {
    const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true)
    expect(shebang.split(' ')).toContain(FLAG)
    expect(npmStartCommand()).toContain(FLAG)
    expect(NODE_FLAGS).toContain(FLAG)
  })
})

describe.each(testDialects)('a server started as deployed on %s', (kind) => {
  let server: ServerProcess | undefined
  let cleanup: (() => Promise<void>) | undefined
  afterEach(async () => {
    server?.child.kill('SIGKILL')
    await server?.exited
    server = undefined
    await cleanup?.()
  })

  const ways = [
    { name: 'npm start', command: npmStartCommand },
    { name: 'the plinth bin, through its #! line', command: () => [BIN] },
  ]

  test.for(ways)(
    'by $name runs without __proto__ and survives a poisoned request',
    async ({ command }, context) => {
      if (shouldSkip(kind)) context.skip(postgresSkipReason())
      if (process.platform !== 'linux')
        context.skip('reads the command line from /proc, which only Linux has')
      const dataDir = mkdtempSync(join(tmpdir(), 'plinth-proto-'))
      const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
      cleanup = async () => {
        await postgres?.drop()
        rmSync(dataDir, { recursive: true, force: true })
      }
      server = await startServer(
        ['--dir', dataDir, ...(postgres ? ['--database-url', postgres.url] : [])],
        {},
        command(),
      )
      expect(commandLineOf(server)).toContain(FLAG)

      const call = async (method: string, path: string, body?: unknown, token = '') => {
        const response = await fetch(`${server!.url}${path}`, {
          method,
          headers: {
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        const text = await response.text()
        return { status: response.status, body: text ? JSON.parse(text) : null }
      }
      const setupToken = (await server.setupLink()).split('#token=')[1]
      const account = { email: 'me@example.com', password: 'my long password' }
      const setup = await call('POST', '/api/setup', {
        token: setupToken,
        ...account,
        passwordConfirm: account.password,
      })
      expect(setup.status, JSON.stringify(setup.body)).toBe(201)
      const signIn = () =>
        call('POST', '/api/collections/_superusers/auth-with-password', {
          identity: account.email,
          password: account.password,
        })
      const token = (await signIn()).body.token as string
      const notes = { name: 'notes', fields: [{ name: 'title', type: 'text' }], listRule: '', createRule: '' }
      expect((await call('POST', '/api/collections', notes, token)).status).toBe(201)
      expect((await call('POST', '/api/collections/notes/records', { title: 'a' })).status).toBe(201)

      for (const fields of ['expand.__proto__.x', 'expand.constructor.prototype.y'])
        expect((await call('GET', `/api/collections/notes/records?fields=${fields}`)).status).toBe(400)

      const again = await signIn()
      expect(again.status, JSON.stringify(again.body)).toBe(200)
      expect((await call('POST', '/api/collections/notes/records', { title: 'b' })).status).toBe(201)
    },
  )
})
