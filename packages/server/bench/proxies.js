// nginx and HAProxy in front of Plinth nodes on this machine, each from the configuration
// shipped in deploy/ with only its addresses replaced, so tests and benchmarks run the files
// users copy. Each proxy gets a folder of its own and a free port, never the system service.
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './processes.js'

const DEPLOY = fileURLToPath(new URL('../../../deploy/', import.meta.url))

export const PROXY_KINDS = {
  nginx: { file: join(DEPLOY, 'nginx', 'plinth.conf'), package: 'nginx' },
  haproxy: { file: join(DEPLOY, 'haproxy', 'haproxy.cfg'), package: 'haproxy' },
}

/** Where an installed program (nginx, haproxy, redis-server) is, or null when it is not. */
export function installedProgram(name) {
  for (const folder of ['/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/local/bin']) {
    const path = join(folder, name)
    if (existsSync(path)) return path
  }
  return null
}

/** Why `kind` cannot run here, or ''. Under CI=true a missing proxy throws: a skip would hide a gap. */
export function proxySkipReason(kind) {
  if (installedProgram(kind)) return ''
  const reason = `${kind} is not installed (Debian package ${PROXY_KINDS[kind].package}; .ci/run installs it)`
  if (process.env.CI === 'true') throw new Error(`${reason}; it is required under CI.`)
  return reason
}

/** Replaces every line `pattern` matches with `lines(first match)`, where the first one stood. */
function replaceLines(text, pattern, lines, what) {
  const matches = [...text.matchAll(pattern)]
  if (matches.length === 0) throw new Error(`the shipped proxy configuration has no ${what} line any more`)
  let first = true
  return text.replace(pattern, (...match) => {
    if (!first) return ''
    first = false
    return lines(match)
  })
}

/**
 * The shipped nginx site with one upstream `server` line per address (keeping the shipped
 * line's parameters), `listen` on the given loopback port and its cache in `dir`.
 */
export function renderNginx(upstreams, port, dir) {
  let text = readFileSync(PROXY_KINDS.nginx.file, 'utf8')
  text = replaceLines(
    text,
    /^([ \t]*)proxy_cache_path[ \t]+\S+/gm,
    ([, indent]) => `${indent}proxy_cache_path ${join(dir, 'cache')}`,
    'proxy_cache_path',
  )
  text = replaceLines(
    text,
    /^([ \t]*)server[ \t]+\S+:\d+([^;\n]*);[ \t]*\n/gm,
    ([, indent, parameters]) =>
      upstreams.map((address) => `${indent}server ${address}${parameters};\n`).join(''),
    'upstream server',
  )
  return replaceLines(
    text,
    /^([ \t]*)listen[ \t]+[^;\n]+;/gm,
    ([, indent]) => `${indent}listen 127.0.0.1:${port};`,
    'listen',
  )
}

/** The shipped HAProxy configuration with one `server` line per address and `bind` on the given port. */
export function renderHaproxy(upstreams, port) {
  let text = readFileSync(PROXY_KINDS.haproxy.file, 'utf8')
  text = replaceLines(
    text,
    /^([ \t]*)server[ \t]+\S+[ \t]+\S+:\d+([^\n]*)\n/gm,
    ([, indent, parameters]) =>
      upstreams.map((address, i) => `${indent}server node${i + 1} ${address}${parameters}\n`).join(''),
    'backend server',
  )
  return replaceLines(
    text,
    /^([ \t]*)bind[ \t]+\S+/gm,
    ([, indent]) => `${indent}bind 127.0.0.1:${port}`,
    'bind',
  )
}

/** nginx's main file around the shipped site: everything it writes stays in `dir`. */
function nginxMain(dir, workers) {
  return `daemon off;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  # A load generator's few connections carry every request: none is closed after a count.
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/plinth.conf;
}
`
}

function answers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Resolves once `child` accepts connections on `port`; kills it and throws `failure()` if it exits or takes 10 s. */
export async function whenListening(port, child, failure) {
  const deadline = Date.now() + 10_000
  while (!(await answers(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(failure())
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/**
 * Starts `kind` in front of `upstreams` (`host:port` each) and resolves once it accepts
 * connections. `workers` sets nginx's worker processes (HAProxy runs one process).
 */
export async function startProxy(kind, upstreams, { workers = 1 } = {}) {
  const program = installedProgram(kind)
  if (!program) throw new Error(proxySkipReason(kind) || `${kind} is not installed`)
  const dir = mkdtempSync(join(tmpdir(), `plinth-${kind}-`))
  // nginx's workers drop root for an unprivileged user, who must reach its temporary folders.
  chmodSync(dir, 0o755)
  const port = await freePort()
  let args
  if (kind === 'nginx') {
    writeFileSync(join(dir, 'plinth.conf'), renderNginx(upstreams, port, dir))
    writeFileSync(join(dir, 'nginx.conf'), nginxMain(dir, workers))
    args = ['-e', join(dir, 'error.log'), '-p', dir, '-c', join(dir, 'nginx.conf')]
  } else {
    writeFileSync(join(dir, 'haproxy.cfg'), renderHaproxy(upstreams, port))
    args = ['-db', '-f', join(dir, 'haproxy.cfg')]
  }
  let output = ''
  // HAProxy logs every request to stdout; only what goes wrong is kept.
  const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr.on('data', (chunk) => {
    output += chunk
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  const logs = () => {
    const log = join(dir, 'error.log')
    return output + (existsSync(log) ? readFileSync(log, 'utf8') : '')
  }
  try {
    await whenListening(port, child, () => `${kind} did not start:\n${logs()}`)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    kind,
    port,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    logs,
    async stop() {
      // A fast stop: a graceful one would wait for open realtime streams.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
