import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../dist/bundle/main.js', import.meta.url))
export const BIN = fileURLToPath(new URL('../../bin/plinth.js', import.meta.url))
/** The Node flags of bin/plinth.js and `npm start`, so spawned servers run as deployed ones do. */
export const NODE_FLAGS = ['--disable-proto=delete']

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export interface ServerProcess {
  child: ChildProcess
  url: string
  output: () => string
  exited: Promise<number | null>
  /** The first-superuser link, once the server has logged it (the log line follows the first health answer). */
  setupLink: () => Promise<string>
}

const SETUP_LINK = /(http:\/\/\S+\/_\/setup#token=[A-Za-z0-9_-]+)/

/**
 * Starts the built CLI's `serve` and resolves once /api/health answers. `command` is the
 * program and its arguments before `serve`; by default Node with NODE_FLAGS and the CLI.
 * `port` is a free one unless given (a node restarted where a proxy expects it).
 */
export async function startServer(
  args: string[],
  env: Record<string, string> = {},
  command: string[] = [process.execPath, ...NODE_FLAGS, CLI],
  port?: number,
): Promise<ServerProcess> {
  port ??= await freePort()
  const [program, ...before] = command as [string, ...string[]]
  const child = spawn(program, [...before, 'serve', '--port', String(port), ...args], {
    env: { ...process.env, PLINTH_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${output}`)
    try {
      const response = await fetch(`${url}/api/health`)
      if (response.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server did not start: ${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  const setupLink = async () => {
    const until = Date.now() + 10_000
    for (;;) {
      const link = SETUP_LINK.exec(output)?.[1]
      if (link) return link
      if (child.exitCode !== null || Date.now() > until)
        throw new Error(`no setup link in the log: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  return { child, url, output: () => output, exited, setupLink }
}
