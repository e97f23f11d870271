import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The `plinth` command of the repository, as `npm start` runs it (it needs `npm run build` first). */
const BIN = fileURLToPath(new URL('../../../server/bin/plinth.js', import.meta.url))
const NODE_FLAGS = ['--disable-proto=delete']
const SETUP_LINK = /(http:\/\/\S+\/_\/setup#token=[A-Za-z0-9_-]+)/

export interface PlinthServer {
  url: string
  /** The one-time link for the first superuser, read from the server's log. */
  setupLink: string
  output: () => string
  stop: () => Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

async function until<T>(
  what: string,
  child: ChildProcess,
  output: () => string,
  check: () => Promise<T | null>,
) {
  const deadline = Date.now() + 20_000
  for (;;) {
    const found = await check()
    if (found !== null) return found
    if (child.exitCode !== null) throw new Error(`the server exited before ${what}: ${output()}`)
    if (Date.now() > deadline) throw new Error(`no ${what} within 20 s: ${output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * A real Plinth on a free port of 127.0.0.1 with a data folder of its own (SQLite), started
 * the way a user starts it. Nothing of the surrounding shell's PLINTH_* settings reaches it;
 * `settings` are the test's own, or made from the port when they name it (a public URL).
 */
export async function startPlinth(
  settings: Record<string, string> | ((port: number) => Record<string, string>) = {},
): Promise<PlinthServer> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-admin-e2e-'))
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PLINTH_')))
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, BIN, 'serve', '--port', String(port), '--dir', dataDir],
    {
      env: {
        ...env,
        PLINTH_LOG_LEVEL: 'info',
        ...(typeof settings === 'function' ? settings(port) : settings),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let log = ''
  child.stdout?.on('data', (chunk) => {
    log += chunk
  })
  child.stderr?.on('data', (chunk) => {
    log += chunk
  })
  const output = () => log
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  const url = `http://127.0.0.1:${port}`
  try {
    await until('an answer to /api/health', child, output, async () => {
      const response = await fetch(`${url}/api/health`).catch(() => null)
      return response?.ok ? true : null
    })
    const setupLink = await until(
      'setup link in the log',
      child,
      output,
      async () => SETUP_LINK.exec(log)?.[1] ?? null,
    )
    return { url, setupLink, output, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
