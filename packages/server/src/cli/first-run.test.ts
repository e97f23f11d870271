import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { CLI, freePort } from '../test-support/server-process.js'

/**
 * What a newcomer sees in the terminal on a first `plinth serve`.
 * `npm test` builds first; run `npm run build` before running this file alone.
 */

// The surrounding shell's PLINTH_* settings must not pick the port or the database of a test.
const childEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PLINTH_')))

function plinth(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...childEnv, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

describe('plinth serve on a first run', () => {
  const cleanups: Array<() => void> = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup()
  })
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-first-run-'))
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }

  test('a busy port says how to choose another and exits without a stack trace', async () => {
    const port = await freePort()
    const taken: Server = await new Promise((resolve) => {
      const server = createServer().listen(port, '127.0.0.1', () => resolve(server))
    })
    cleanups.push(() => taken.close())
    const run = await plinth(['serve', '--dir', dataDir()], { PLINTH_PORT: String(port) })
    expect(run.code, run.stdout).toBe(1)
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1)
    expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`)
    expect(run.stderr).toContain(`PLINTH_PORT=${port + 1} npm start`)
    expect(run.stderr).toContain(`plinth serve --port ${port + 1}`)
    expect(run.stderr).not.toMatch(/^\s+at /m)
  })
})
