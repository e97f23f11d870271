import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { afterEach, describe, expect, test } from 'vitest'
import { childEnv, runPlinth } from '../test-support/cli-run.js'
import { CLI, freePort, startServer } from '../test-support/server-process.js'

/**
 * What a newcomer sees in the terminal on a first `plinth serve`.
 * `npm test` builds first; run `npm run build` before running this file alone.
 */

/** Waits until `isDone` holds, or fails after a deadline; never a fixed sleep. */
async function until(isDone: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!isDone()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Readable log lines, and the setup link alone on its line between blank lines. */
function expectPrettyFirstRun(output: string, url: string): void {
  const plain = stripVTControlCharacters(output).replaceAll('\r', '')
  expect(plain).toContain(`INFO: Plinth is listening on ${url}`)
  expect(plain).not.toMatch(/^\{/m)
  const link = plain.indexOf(`\n\nCreate the first superuser: ${url}/_/setup#token=`)
  expect(link, plain).toBeGreaterThan(0)
  const [, blankBefore, line, note, blankAfter] = plain.slice(link).split('\n')
  expect(blankBefore).toBe('')
  expect(line).toMatch(/^Create the first superuser: \S+\/_\/setup#token=[\w-]+$/)
  expect(note).toBe('(a one-time link, valid for 1 hour)')
  expect(blankAfter).toBe('')
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
    const run = await runPlinth(['serve', '--dir', dataDir()], { PLINTH_PORT: String(port) })
    expect(run.code, run.stdout).toBe(1)
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1)
    expect(run.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`)
    expect(run.stderr).toContain(`PLINTH_PORT=${port + 1} npm start`)
    expect(run.stderr).toContain(`plinth serve --port ${port + 1}`)
    expect(run.stderr).not.toMatch(/^\s+at /m)
  })

  const hasScript = spawnSync('script', ['--version']).status === 0

  test('at a terminal the logs are readable and the setup link stands on its own line', async (context) => {
    const why = 'needs `script` (util-linux) to run the server under a pseudo-terminal'
    if (!hasScript && process.env.CI === 'true') throw new Error(why)
    if (!hasScript) context.skip(why)
    const port = await freePort()
    const command = [process.execPath, CLI, 'serve', '--port', String(port), '--dir', dataDir()]
      .map((word) => `'${word.replaceAll("'", "'\\''")}'`)
      .join(' ')
    const child = spawn('script', ['-qfc', command, '/dev/null'], {
      env: { ...childEnv, PLINTH_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    // Closing the terminal hangs up the server inside it.
    cleanups.unshift(() => child.kill('SIGKILL'))
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    await until(
      () => output.includes('(a one-time link, valid for 1 hour)') || child.exitCode !== null,
      () => output,
    )
    expectPrettyFirstRun(output, `http://127.0.0.1:${port}`)
  })

  test('PLINTH_LOG_FORMAT=pretty gives the readable form without a terminal', async () => {
    const server = await startServer(['--dir', dataDir()], { PLINTH_LOG_FORMAT: 'pretty' })
    cleanups.unshift(() => server.child.kill('SIGKILL'))
    await until(() => server.output().includes('(a one-time link'), server.output)
    expectPrettyFirstRun(server.output(), server.url)
  })

  test('without a terminal every line is JSON, the setup link included', async () => {
    const server = await startServer(['--dir', dataDir()])
    cleanups.unshift(() => server.child.kill('SIGKILL'))
    await until(() => server.output().includes('setup#token='), server.output)
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { level: number; msg: string })
    const setup = lines.find((line) => line.msg.includes(`${server.url}/_/setup#token=`))
    expect(setup?.level, server.output()).toBe(40)
  })
})
