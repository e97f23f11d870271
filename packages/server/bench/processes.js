import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const CLI = here('../dist/bundle/main.js')
// A profile names each function's module only where the modules are apart: in the bundle
// Plinth, Kysely and TypeBox share files. The code a request runs is the same in both.
const UNBUNDLED_CLI = here('../dist/cli/main.js')
const BIN = here('../bin/plinth.js')

/**
 * The Node.js flags the `plinth` command starts with (its shebang line). Both servers
 * get them, so Plinth runs as shipped and the floor on the same runtime settings.
 */
export const NODE_FLAGS =
  /^#!.*\bnode((?: --[a-z-]+(?:=\S+)?)*)\s*$/m
    .exec(readFileSync(BIN, 'utf8').split('\n', 1)[0])?.[1]
    .trim()
    .split(' ')
    .filter(Boolean) ?? []
/** Node's flags to write a CPU profile into `dir` (none without one), named `name` if given. */
export function profileFlags(dir, name) {
  if (!dir) return []
  return ['--cpu-prof', '--cpu-prof-dir', dir, ...(name ? ['--cpu-prof-name', `${name}.cpuprofile`] : [])]
}

/**
 * Node's flags and the command that start Plinth on `dataDir` and `port`, as `plinth serve`
 * does; with `profileDir`, from the compiled modules rather than the bundle.
 */
export function plinthServeArgs(dataDir, port, { profileDir, profileName, extra = [] } = {}) {
  return [
    ...NODE_FLAGS,
    ...profileFlags(profileDir, profileName),
    profileDir ? UNBUNDLED_CLI : CLI,
    'serve',
    '--dir',
    dataDir,
    '--port',
    String(port),
    ...extra,
  ]
}

export const FLOOR = here('./floor.js')
export const FLOOR_POSTGRES = here('./floor-postgres.js')
export const LOAD = here('./load.js')

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Plain node:http rather than fetch: fetch loads undici lazily, which would add to the first poll. */
export function call(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const outgoing = request(
      url,
      {
        method,
        agent: false,
        headers: payload ? { ...headers, 'content-type': 'application/json' } : headers,
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk) => {
          text += chunk
        })
        response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, text }))
      },
    )
    outgoing.once('error', reject)
    outgoing.end(payload)
  })
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Spawns a server and polls `GET /api/health` every `pollMs` until it answers 200.
 * Resolves with the child and the time from spawn to that first answer.
 */
export async function startServer({ name, args, env, port, pollMs = 10, timeoutMs = 30_000 }) {
  let output = ''
  const startedAt = performance.now()
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.on('data', (chunk) => {
    output += chunk
  })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited before answering /api/health:\n${output}`)
    try {
      const response = await call(`${url}/api/health`)
      if (response.status === 200) break
    } catch {
      // Not listening yet.
    }
    if (performance.now() - startedAt > timeoutMs) {
      child.kill('SIGKILL')
      throw new Error(`${name} did not answer /api/health within ${timeoutMs} ms:\n${output}`)
    }
    await sleep(pollMs)
  }
  return { name, child, url, exited, startMs: performance.now() - startedAt, output: () => output }
}

/** Asks the server to drain and waits for it; a server that hangs is killed. */
export async function stopServer(server) {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited
  server.child.kill('SIGTERM')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000)
  try {
    return await server.exited
  } finally {
    clearTimeout(timer)
  }
}

/** Resident memory of a process in MB, now (VmRSS) and at its peak (VmHWM). */
export function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN)
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 }
}

/** Runs one load plan in its own process and returns what it measured. */
export function runLoad(planFile) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD, planFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}:\n${stderr}`))
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()))
      } catch {
        reject(new Error(`load generator printed no result:\n${stdout}\n${stderr}`))
      }
    })
  })
}
