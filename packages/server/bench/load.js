// Drives one scenario against one server and prints the measured result as JSON.
// It runs in its own process so that the load generator's CPU time is never charged
// to the server under test, and a server's crash cannot take the numbers with it.
//
//   node load.js <plan.json>
import { readFileSync } from 'node:fs'
import autocannon from 'autocannon'

const TICKS_PER_SECOND = 100

const plan = JSON.parse(readFileSync(process.argv[2], 'utf8'))
// The processes whose CPU counts as the server's: one server, or every process of a cluster.
const serverPids = plan.serverPids ?? [plan.serverPid]
const base = `/api/collections/${plan.collection}/records`

// One counter for all connections: every request asks for the next row, so reads
// spread over the rows given instead of hitting one hot row.
let next = Math.floor(Math.random() * 1_000_000)
const pick = (list) => list[next++ % list.length]

const shapes = {
  view: () => ({
    method: 'GET',
    setupRequest(request) {
      request.path = `${base}/${pick(plan.recordIds)}`
      return request
    },
  }),
  list: () => ({
    method: 'GET',
    setupRequest(request) {
      const filter = encodeURIComponent(`${plan.relation}="${pick(plan.parentIds)}"`)
      request.path = `${base}?filter=${filter}&sort=-created&perPage=20`
      return request
    },
  }),
  search: () => ({
    method: 'GET',
    setupRequest(request) {
      request.path = `${base}?search=${encodeURIComponent(pick(plan.searches))}&perPage=20`
      return request
    },
  }),
  create: () => ({
    method: 'POST',
    setupRequest(request) {
      const n = next++
      request.path = base
      request.body = JSON.stringify({
        title: `${plan.titlePrefix} ${process.pid}-${n}`,
        [plan.relation]: plan.parentIds[n % plan.parentIds.length],
        views: n % 1000,
      })
      return request
    },
  }),
  // Always the right password: a failure would count towards the lockout and end in 429s.
  'sign-in': () => ({
    method: 'POST',
    path: `/api/collections/${plan.collection}/auth-with-password`,
    body: JSON.stringify(plan.credentials),
  }),
  // The same request every time: a file download, or an upload whose body is a ready-made form.
  fixed: () => ({
    method: plan.method ?? 'GET',
    path: plan.path,
    ...(plan.bodyFile ? { body: readFileSync(plan.bodyFile) } : {}),
  }),
}

function run(duration, latencies) {
  const headers = { ...plan.headers }
  if (plan.kind === 'create' || plan.kind === 'sign-in') headers['content-type'] = 'application/json'
  const instance = autocannon({
    url: plan.url,
    connections: plan.connections,
    duration,
    // With a rate, the load is offered at that many requests a second whatever the answers' pace.
    ...(plan.rate ? { overallRate: plan.rate } : {}),
    headers,
    requests: [shapes[plan.kind]()],
  })
  // autocannon's histogram keeps whole milliseconds; sub-millisecond reads need the raw times.
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status >= 200 && status < 300) latencies?.push(responseTime)
  })
  return instance
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null
  const value = sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
  return Math.round(value * 1000) / 1000
}

/**
 * CPU time, in seconds, of the whole machine (split into process time and steal) and of
 * the server. What neither the server nor this process used went to something else on
 * the machine, which makes the measurement less trustworthy.
 */
function cpuTimes() {
  const [user, nice, system, , , , , steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number)
  const servers = serverPids.map((pid) => {
    // Fields after the command name, which may itself hold spaces: utime and stime are 14th and 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  })
  const self = process.cpuUsage()
  return {
    processes: (user + nice + system) / TICKS_PER_SECOND,
    steal: steal / TICKS_PER_SECOND,
    servers,
    server: servers.reduce((sum, seconds) => sum + seconds, 0),
    self: (self.user + self.system) / 1e6,
    at: performance.now() / 1000,
  }
}

function cpuShare(before, after) {
  const wall = after.at - before.at
  const delta = (key) => after[key] - before[key]
  const cores = (seconds) => Math.round((seconds / wall) * 100) / 100
  return {
    serverCores: cores(delta('server')),
    // Each of the server's processes (a cluster's nodes and proxy), in the plan's order.
    perServerCores: after.servers.map((seconds, i) => cores(seconds - before.servers[i])),
    loadGeneratorCores: cores(delta('self')),
    otherCores: cores(Math.max(0, delta('processes') - delta('server') - delta('self'))),
    stealCores: cores(delta('steal')),
  }
}

const warmup = plan.warmup > 0 ? await run(plan.warmup) : { requests: { total: 0 } }
const latencies = []
const before = cpuTimes()
const result = await run(plan.duration, latencies)
const cpu = cpuShare(before, cpuTimes())
const sorted = Float64Array.from(latencies).sort()

const summary = {
  requestsPerSecond: result.requests.average,
  requestsTotal: result.requests.total,
  warmupRequests: warmup.requests.total,
  latencyMs: {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: percentile(sorted, 100),
  },
  durationSeconds: result.duration,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  cpu,
  statusCodes: Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, Number(stats.count)]),
  ),
}
process.stdout.write(`${JSON.stringify(summary)}\n`)
