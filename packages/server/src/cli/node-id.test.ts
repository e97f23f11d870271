import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { freshPostgresUrl, postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type ServerProcess, startServer } from '../test-support/server-process.js'

/**
 * The node id as an operator sees it: in the JSON lines of a running `plinth serve`.
 * `npm test` builds first; run `npm run build` before running this file alone.
 */

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

describe.each(testDialects)('the node id of a server on %s', (kind) => {
  let dataDir: string
  let dropDatabase: (() => Promise<void>) | undefined
  let args: string[]
  let server: ServerProcess | undefined

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    dataDir = mkdtempSync(join(tmpdir(), 'plinth-node-id-'))
    const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
    dropDatabase = postgres?.drop
    args = ['--dir', dataDir, ...(postgres ? ['--database-url', postgres.url] : [])]
  })
  afterEach(async () => {
    server?.child.kill('SIGKILL')
    await server?.exited
    server = undefined
    await dropDatabase?.()
    rmSync(dataDir, { recursive: true, force: true })
  })

  /** Starts a server, sends a few requests, stops it and answers its JSON log lines. */
  async function logOf(env: Record<string, string>): Promise<Record<string, unknown>[]> {
    server = await startServer(args, { PLINTH_LOG_FORMAT: 'json', ...env })
    await fetch(`${server.url}/api/health`)
    await fetch(`${server.url}/api/nope`)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    return jsonLines(server.output())
  }

  test('PLINTH_NODE_ID is in every log line, requests and start-up alike', async () => {
    const lines = await logOf({ PLINTH_NODE_ID: 'api-eu-1' })
    expect(lines.some((line) => line.msg === 'request completed')).toBe(true)
    expect(lines.some((line) => String(line.msg).startsWith('Plinth is listening'))).toBe(true)
    for (const line of lines) expect(line.nodeId, JSON.stringify(line)).toBe('api-eu-1')
  })

  test('without it, every line carries the same generated id', async () => {
    const lines = await logOf({})
    const ids = new Set(lines.map((line) => line.nodeId))
    expect(ids.size).toBe(1)
    expect([...ids][0]).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{6}$/)
  })

  test('an invalid one stops start-up naming the key', async () => {
    await expect(startServer(args, { PLINTH_NODE_ID: 'two words' })).rejects.toThrow(/PLINTH_NODE_ID/)
  })
})
