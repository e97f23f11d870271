// `npm run bench:realtime`: BENCH_REALTIME_CLIENTS SSE subscribers (default 5,000) on one
// node, one write every 10 ms for BENCH_REALTIME_SECONDS (default 10). Reports delivery
// latency (from the write's start to the event's arrival, over every client and event)
// and the server's RSS per 1,000 subscribers. Target: p99 below 100 ms. The same load runs
// first against realtime-floor.js, a hand-written SSE fan-out, for what this machine allows.
// BENCH_PROFILE_DIR=dir writes a CPU profile of the server there.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { upsertSuperuser } from '../dist/auth/index.js'
import { loadConfig } from '../dist/config/index.js'
import { createCore } from '../dist/core/index.js'
import {
  call,
  freePort,
  memoryOf,
  NODE_FLAGS,
  plinthServeArgs,
  startServer,
  stopServer,
} from './processes.js'
import { plinthEnv, withoutPlinthSettings } from './settings.js'

const REALTIME_FLOOR = fileURLToPath(new URL('./realtime-floor.js', import.meta.url))

const CLIENTS = Number(process.env.BENCH_REALTIME_CLIENTS ?? 5000)
const SECONDS = Number(process.env.BENCH_REALTIME_SECONDS ?? 10)
const WRITE_EVERY_MS = 10
const TARGET_P99_MS = 100
const SUPERUSER = { email: 'bench@example.com', password: 'bench-password-1234' }

const now = () => performance.timeOrigin + performance.now()

async function prepare(dataDir) {
  const core = await createCore(loadConfig({}, { dataDir, logLevel: 'silent', sqliteSync: 'normal' }))
  try {
    await core.collections.create({
      name: 'ticks',
      fields: [{ name: 'sent', type: 'number' }],
      listRule: '',
      viewRule: '',
    })
    await upsertSuperuser(core.records, SUPERUSER.email, SUPERUSER.password)
  } finally {
    await core.close()
  }
}

// Latencies are counted in 0.1 ms buckets, so client processes report a histogram, not every sample.
const BUCKETS = 600_000

/** One subscriber: a raw SSE stream that counts the latency of every tick it receives. */
function subscribe(url, histogram) {
  return new Promise((resolve, reject) => {
    const outgoing = request(`${url}/api/realtime`, { agent: false }, (response) => {
      response.setEncoding('utf8')
      let clientId = null
      let pending = ''
      response.on('data', (chunk) => {
        const arrived = now()
        if (clientId === null) {
          clientId = /"clientId":"([^"]+)"/.exec(chunk)?.[1] ?? null
          if (clientId) resolve({ clientId, close: () => outgoing.destroy() })
          return
        }
        // Only whole events: a chunk may end inside one.
        pending += chunk
        const end = pending.lastIndexOf('\n\n')
        if (end === -1) return
        const complete = pending.slice(0, end)
        pending = pending.slice(end + 2)
        for (const match of complete.matchAll(/"sent":([0-9.]+)/g)) {
          const bucket = Math.round((arrived - Number(match[1])) * 10)
          histogram[Math.max(0, Math.min(BUCKETS - 1, bucket))] += 1
        }
      })
    })
    outgoing.once('error', reject)
    outgoing.end()
  })
}

/** A child process holding `count` subscribers; it reports its histogram when asked. */
async function runClients(url, count) {
  const histogram = new Uint32Array(BUCKETS)
  const streams = []
  for (let start = 0; start < count; start += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, count - start) }, () => subscribe(url, histogram)),
    )
    streams.push(...batch)
    await Promise.all(
      batch.map(async ({ clientId }) => {
        const answer = await call(`${url}/api/realtime`, {
          method: 'POST',
          body: { clientId, subscriptions: ['ticks/*'] },
        })
        if (answer.status !== 204) throw new Error(`subscribing failed: ${answer.status} ${answer.text}`)
      }),
    )
  }
  process.send({ ready: true })
  process.on('message', () => {
    const counts = []
    for (let bucket = 0; bucket < BUCKETS; bucket++)
      if (histogram[bucket] > 0) counts.push([bucket, histogram[bucket]])
    process.send({ counts }, () => {
      for (const stream of streams) stream.close()
      process.exit(0)
    })
  })
}

function startClients(url, count) {
  const child = fork(fileURLToPath(import.meta.url), ['--clients', url, String(count)], { stdio: 'inherit' })
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`a client process exited with ${code}`)))
  })
  return {
    ready,
    report: () =>
      new Promise((resolve) => {
        child.once('message', (message) => resolve(message.counts))
        child.send('report')
      }),
  }
}

function percentile(histogram, total, p) {
  const wanted = Math.ceil((p / 100) * total)
  let seen = 0
  for (const [bucket, count] of histogram) {
    seen += count
    if (seen >= wanted) return bucket / 10
  }
  return Number.NaN
}

/** Subscribes CLIENTS to `server`, writes for SECONDS and reads the latencies the clients saw. */
async function measure(server, token) {
  const idle = memoryOf(server.child.pid).rssMb
  const processes = Math.max(1, Math.ceil(CLIENTS / 2500))
  const clients = Array.from({ length: processes }, (_, n) =>
    startClients(server.url, Math.floor(CLIENTS / processes) + (n < CLIENTS % processes ? 1 : 0)),
  )
  await Promise.all(clients.map((client) => client.ready))
  const subscribed = memoryOf(server.child.pid).rssMb

  let writes = 0
  const pending = []
  const writing = setInterval(() => {
    writes += 1
    pending.push(
      call(`${server.url}/api/collections/ticks/records`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: { sent: now() },
      }),
    )
  }, WRITE_EVERY_MS)
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  clearInterval(writing)
  const answers = await Promise.all(pending)
  const failed = answers.filter((answer) => answer.status !== 201).length
  // Deliveries still on their way arrive within the drain time; later ones count as lost.
  await new Promise((resolve) => setTimeout(resolve, 5000))
  const peak = memoryOf(server.child.pid)
  const merged = new Map()
  for (const counts of await Promise.all(clients.map((client) => client.report())))
    for (const [bucket, count] of counts) merged.set(bucket, (merged.get(bucket) ?? 0) + count)
  const histogram = [...merged].sort((a, b) => a[0] - b[0])
  const delivered = histogram.reduce((sum, [, count]) => sum + count, 0)
  return {
    writes,
    failed,
    delivered,
    expected: writes * CLIENTS,
    p50: percentile(histogram, delivered, 50),
    p99: percentile(histogram, delivered, 99),
    max: histogram.length ? histogram[histogram.length - 1][0] / 10 : Number.NaN,
    idle,
    subscribed,
    peak: peak.peakRssMb,
  }
}

function report(name, result) {
  const { writes, failed, delivered, expected, p50, p99, max } = result
  console.log(
    `${name}: writes ${writes} (${failed} failed); deliveries ${delivered} of ${expected}; ` +
      `latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
  )
}

async function measureFloor() {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-realtime-floor-'))
  let server
  try {
    const port = await freePort()
    server = await startServer({
      name: 'floor',
      args: [...NODE_FLAGS, REALTIME_FLOOR, '--db', join(dataDir, 'floor.db'), '--port', String(port)],
      env: withoutPlinthSettings(),
      port,
    })
    return await measure(server, 'floor')
  } finally {
    if (server) await stopServer(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function measurePlinth() {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-realtime-'))
  let server
  try {
    await prepare(dataDir)
    const port = await freePort()
    server = await startServer({
      name: 'Plinth',
      args: plinthServeArgs(dataDir, port, { profileDir: process.env.BENCH_PROFILE_DIR }),
      env: plinthEnv('normal', { PLINTH_REALTIME_MAX_CONNECTIONS: String(CLIENTS * 2) }),
      port,
    })
    const signIn = await call(`${server.url}/api/collections/_superusers/auth-with-password`, {
      method: 'POST',
      body: { identity: SUPERUSER.email, password: SUPERUSER.password },
    })
    return await measure(server, JSON.parse(signIn.text).token)
  } finally {
    if (server) await stopServer(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function main() {
  console.log(`${CLIENTS} SSE subscribers; one write every ${WRITE_EVERY_MS} ms for ${SECONDS} s`)
  const floor = await measureFloor()
  report('floor ', floor)
  const plinth = await measurePlinth()
  report('Plinth', plinth)
  console.log(
    `Plinth p99 ${plinth.p99 < TARGET_P99_MS ? 'meets' : 'misses'} the target of ${TARGET_P99_MS} ms; ` +
      `ratio to the floor's p99: ${(floor.p99 / plinth.p99).toFixed(2)}`,
  )
  const perThousand = ((plinth.subscribed - plinth.idle) / CLIENTS) * 1000
  console.log(
    `Plinth RSS: ${plinth.idle.toFixed(0)} MB idle, ${plinth.subscribed.toFixed(0)} MB subscribed ` +
      `(${perThousand.toFixed(1)} MB per 1,000 subscribers), peak ${plinth.peak.toFixed(0)} MB`,
  )
}

const run = process.argv[2] === '--clients' ? runClients(process.argv[3], Number(process.argv[4])) : main()
run.catch((error) => {
  console.error(error)
  process.exit(1)
})
