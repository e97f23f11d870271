// `npm run bench:cluster`: one Plinth node against several behind nginx (the shipped
// deploy/nginx/plinth.conf), all on one PostgreSQL and one Redis, under the core bench's
// records workload. It reports requests per second, p99, the CPU of every process on the
// request's path, and what the cluster path costs per request over one node.
// See docs/benchmarks.md#cluster.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { describeMachine, loadAverage } from './machine.js'
import { freePort, plinthServeArgs, startServer, stopServer } from './processes.js'
import { installedProgram, proxySkipReason, startProxy, whenListening } from './proxies.js'
import { medianRound, table } from './report.js'
import { chosenScenarios, loadSettings, measure, SCENARIOS, signIn } from './scenarios.js'
import { CREATE_TITLE_PREFIX, SUPERUSER, seed } from './seed.js'
import { freshPostgresSchema, number, plinthEnv } from './settings.js'

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))
/** The cluster path may cost this much more CPU per request than one node. */
const TARGET_OVERHEAD = 0.3

function readSettings() {
  return {
    ...loadSettings(),
    nodes: number('BENCH_CLUSTER_NODES', 3),
    // CPU per request is compared at one offered load, this share of the slowest setup's most.
    equalLoad: number('BENCH_CLUSTER_EQUAL_LOAD', 0.5),
    ...splitScenarios(
      chosenScenarios(SCENARIOS.filter((s) => s.collection === 'posts' && !s.measured && s.floor !== false)),
    ),
  }
}

/**
 * The core bench's workload on posts (read by id, filtered list, create, with and without a
 * token), measured on every setup; and the filtered list with the read cache on against off,
 * measured on the nodes behind nginx.
 */
function splitScenarios(chosen) {
  return {
    scenarios: chosen.filter((s) => !s.reference),
    cacheScenario: chosen.find((s) => s.reference === 'uncached') ?? null,
  }
}

/** A Redis of the bench's own, so its CPU is this run's alone. */
async function startRedis() {
  const port = await freePort()
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  const child = spawn(installedProgram('redis-server'), args, { stdio: 'ignore' })
  await whenListening(port, child, () => 'redis-server did not start')
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => child.kill('SIGKILL') }
}

/**
 * nginx's worker processes: they, not the master, carry the requests. Its cache manager lives
 * on idle, and its cache loader exits a minute after the start, so neither is measured.
 */
function workersOf(pid) {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number)
    .filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('worker process'))
}

function skipReason() {
  try {
    return (
      proxySkipReason('nginx') || (installedProgram('redis-server') ? '' : 'redis-server is not installed')
    )
  } catch (error) {
    return error.message
  }
}

const cpuMsPerRequest = (run) => (run.cpu.serverCores / run.requestsPerSecond) * 1000
const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : '-')

const SETUPS = ['single', 'proxied', 'cluster']

/** `keys` with the `round`-th first, so each goes first in turn: a shared read cache fills as they run. */
const inTurn = (keys, round) => keys.map((_, i) => keys[(i + round) % keys.length])

function report(results) {
  const { machine, settings } = results
  const n = settings.nodes
  const out = [
    `Plinth cluster benchmark, ${results.date}`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}`,
    `Load: ${settings.connections} connections, ${settings.rounds} ${settings.duration} s rounds per setup, each setup first in turn (median shown); ${settings.posts.toLocaleString('en-US')} posts on PostgreSQL, a Redis of its own`,
    `Setups: 1 node at its own address; the same node behind nginx; ${n} nodes behind nginx (1 worker each).`,
    `Most: as many requests as each setup answers. Equal load: every setup offered ${settings.equalLoad * 100} % of the slowest one's most, and`,
    'the CPU of the nodes, nginx and Redis (not PostgreSQL) it took, in ms per request.',
    '',
  ]
  const header = [
    'scenario',
    '1 node req/s',
    'p99',
    '+nginx req/s',
    'p99',
    `${n} nodes req/s`,
    'p99',
    'equal load req/s',
    '1 node CPU',
    '+nginx CPU',
    `${n} nodes CPU`,
    'cores: nodes | nginx | Redis',
    'nginx path',
    `${n} nodes`,
  ]
  const percent = (value) => `${value >= 0 ? '+' : ''}${fixed(value * 100, 0)} %`
  const rows = results.scenarios.map((s) => {
    const cores = s.equal.cluster.cpu.perServerCores
    return [
      s.title,
      ...SETUPS.flatMap((key) => [
        Math.round(s.saturated[key].requestsPerSecond).toLocaleString('en-US'),
        fixed(s.saturated[key].latencyMs.p99, 1),
      ]),
      s.equal.rate.toLocaleString('en-US'),
      ...SETUPS.map((key) => fixed(s.equal[key].cpuMsPerRequest, 3)),
      `${cores
        .slice(0, n)
        .map((c) => fixed(c, 2))
        .join(' ')} | ${fixed(cores[n], 2)} | ${fixed(cores.at(-1), 2)}`,
      percent(s.overhead.proxied),
      `${percent(s.overhead.cluster)} ${s.overhead.cluster < TARGET_OVERHEAD ? 'PASS' : 'FAIL'}${s.clean ? '' : ' (errors)'}`,
    ]
  })
  if (rows.length > 0)
    out.push(
      ...table(header, rows),
      '',
      'p99 in ms. The last two columns: CPU per request at equal load over one node at its own address.',
      `Target: ${n} nodes behind nginx cost < ${TARGET_OVERHEAD * 100} % more CPU per request than one node.`,
    )
  const perNodeHeader = [
    'scenario',
    'req/s a node',
    '1 node CPU',
    '+nginx CPU',
    `${n} nodes CPU`,
    `${n} nodes over 1 node`,
    'over 1 node + nginx',
  ]
  const perNodeRows = results.scenarios.map((s) => [
    s.title,
    s.perNode.rate.toLocaleString('en-US'),
    fixed(s.perNode.single.cpuMsPerRequest, 3),
    fixed(s.perNode.proxied.cpuMsPerRequest, 3),
    fixed(s.equal.cluster.cpuMsPerRequest, 3),
    percent(s.overhead.perNode),
    percent(s.overhead.perNodeProxied),
  ])
  if (perNodeRows.length > 0)
    out.push(
      '',
      `The same load on each node: one node offered the equal load over ${n} (alone, then behind nginx), against the ${n} nodes at the equal load.`,
      ...table(perNodeHeader, perNodeRows),
      'CPU in ms per request; reported, not a target: it leaves out what a process pays per request for being less busy.',
    )
  const { cachedList } = results
  if (cachedList) {
    const side = (run) =>
      `${Math.round(run.requestsPerSecond).toLocaleString('en-US')} req/s (p99 ${fixed(run.latencyMs.p99, 1)} ms)`
    out.push(
      '',
      `Filtered list through ${n} nodes behind nginx, read cache on: ${side(cachedList.cached)}; off: ${side(cachedList.uncached)}; on/off ${fixed(cachedList.ratio, 2)}.`,
    )
  }
  return out.join('\n')
}

/**
 * The filtered list through the nodes behind nginx, read cache on (in the bench's Redis, with
 * each node's copies) against the same nodes with it off: requests per second at their most,
 * each side first in turn.
 */
async function compareCache(settings, targets, measureOn) {
  const runs = { cached: [], uncached: [] }
  for (let round = 0; round < settings.rounds; round++) {
    for (const key of inTurn(['cached', 'uncached'], round))
      runs[key].push(await measureOn(targets[key], round === 0 ? settings.warmup * settings.nodes : 0))
  }
  const cached = medianRound(runs.cached)
  const uncached = medianRound(runs.uncached)
  return { cached, uncached, ratio: cached.requestsPerSecond / uncached.requestsPerSecond }
}

async function main() {
  const settings = readSettings()
  const reason = skipReason()
  if (reason) return console.log(`Cluster benchmark skipped: ${reason}`)
  let schema
  try {
    schema = await freshPostgresSchema()
  } catch (error) {
    return console.log(`Cluster benchmark skipped: PostgreSQL does not answer (${error.message})`)
  }
  const machine = describeMachine()
  const loadBefore = loadAverage()
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-cluster-'))
  const servers = []
  let redis
  const proxies = []
  try {
    console.log(`Seeding ${settings.posts} posts over ${settings.authors} authors into PostgreSQL…`)
    const seeded = await seed({
      dataDir,
      posts: settings.posts,
      authors: settings.authors,
      sync: 'full',
      databaseUrl: schema.url,
    })
    redis = await startRedis()
    const shared = {
      PLINTH_DATABASE_URL: schema.url,
      PLINTH_REDIS_URL: redis.url,
      PLINTH_REDIS_PREFIX: 'bench:',
    }
    const start = async (name, port, extra) =>
      startServer({
        name,
        args: plinthServeArgs(dataDir, port, {
          profileDir: process.env.BENCH_PROFILE_DIR,
          profileName: name,
        }),
        env: plinthEnv('full', { ...shared, ...extra }),
        port,
      })
    const proxy = async (upstreams) => {
      const started = await startProxy('nginx', upstreams)
      proxies.push(started)
      return started
    }
    /** `settings.nodes` nodes behind an nginx of their own, set up as docs/scaling.md says. */
    const startCluster = async (name, extra = {}) => {
      const ports = await Promise.all(Array.from({ length: settings.nodes }, () => freePort()))
      const front = await proxy(ports.map((port) => `127.0.0.1:${port}`))
      const nodes = await Promise.all(
        ports.map((port, i) =>
          start(`${name} ${i + 1}`, port, {
            PLINTH_PUBLIC_URL: front.url,
            PLINTH_TRUSTED_PROXIES: '127.0.0.1',
            PLINTH_NODE_ID: `${name.replaceAll(' ', '-')}-${i + 1}`,
            ...extra,
          }),
        ),
      )
      servers.push(...nodes)
      return {
        name: `${settings.nodes} nodes`,
        nodes: settings.nodes,
        url: front.url,
        pids: [...nodes.map((node) => node.child.pid), ...workersOf(front.pid), redis.pid],
      }
    }
    const single = await start('1 node', await freePort(), {})
    servers.push(single)
    // The same node behind an nginx of its own: what the proxy's hop adds to a request.
    const front = await proxy([new URL(single.url).host])
    const targets = {
      single: { name: '1 node', nodes: 1, url: single.url, pids: [single.child.pid, redis.pid] },
      proxied: {
        name: '1 node + nginx',
        nodes: 1,
        url: front.url,
        pids: [single.child.pid, ...workersOf(front.pid), redis.pid],
      },
      cluster: await startCluster('node'),
    }
    // Tokens name their issuer: each setup signs in through its own address.
    for (const target of Object.values(targets))
      target.tokens = { superuser: await signIn(target, '_superusers', SUPERUSER) }
    const db = new pg.Client({ connectionString: schema.url })
    await db.connect()
    const removeCreated = () =>
      db.query('delete from posts where title like $1', [`${CREATE_TITLE_PREFIX} %`])
    const scenarios = []
    for (const scenario of settings.scenarios) {
      const phase = async (rate, setups = SETUPS) => {
        const runs = Object.fromEntries(setups.map((key) => [key, []]))
        for (let round = 0; round < settings.rounds; round++) {
          for (const key of inTurn(setups, round)) {
            const target = targets[key]
            // Every node of a setup gets as much warm-up as the single node: JIT, statements, schemas.
            const warmup = round === 0 && rate === undefined ? settings.warmup * target.nodes : 0
            const context = {
              settings,
              dataDir,
              removeCreated,
              seeded,
              rate,
              tokensOf: () => target.tokens,
            }
            runs[key].push(await measure(target, scenario, context, warmup))
          }
        }
        const medians = Object.fromEntries(setups.map((key) => [key, medianRound(runs[key])]))
        for (const run of Object.values(medians)) run.cpuMsPerRequest = cpuMsPerRequest(run)
        return medians
      }
      const saturated = await phase(undefined)
      const rate = Math.max(
        1,
        Math.round(settings.equalLoad * Math.min(...SETUPS.map((key) => saturated[key].requestsPerSecond))),
      )
      console.log(`  ${scenario.title}: every setup at ${rate} req/s`)
      const equal = await phase(rate)
      // One node offered what each node of the cluster was: the cluster's own cost, apart from
      // what a process pays per request for being less busy.
      const perNodeRate = Math.max(1, Math.round(rate / settings.nodes))
      console.log(`  ${scenario.title}: one node at ${perNodeRate} req/s, as each of ${settings.nodes}`)
      const perNode = await phase(perNodeRate, ['single', 'proxied'])
      const isClean = (run) => run.rounds.every((r) => r.errors === 0 && r.timeouts === 0 && r.non2xx === 0)
      const over = (key) => equal[key].cpuMsPerRequest / equal.single.cpuMsPerRequest - 1
      scenarios.push({
        id: scenario.id,
        title: scenario.title,
        saturated,
        equal: { rate, ...equal },
        perNode: { rate: perNodeRate, ...perNode },
        overhead: {
          proxied: over('proxied'),
          cluster: over('cluster'),
          perNode: equal.cluster.cpuMsPerRequest / perNode.single.cpuMsPerRequest - 1,
          perNodeProxied: equal.cluster.cpuMsPerRequest / perNode.proxied.cpuMsPerRequest - 1,
        },
        clean:
          SETUPS.every((key) => isClean(saturated[key]) && isClean(equal[key])) &&
          Object.values(perNode).every(isClean),
      })
    }
    await db.end()
    let cachedList = null
    if (settings.cacheScenario) {
      // Started only now, so that while the setups above were measured no other node ran.
      const uncached = {
        ...(await startCluster('uncached node', { PLINTH_CACHE: 'off' })),
        name: `${settings.nodes} nodes, cache off`,
      }
      cachedList = await compareCache(settings, { cached: targets.cluster, uncached }, (target, warmup) =>
        measure(target, settings.cacheScenario, { settings, dataDir, seeded, tokensOf: () => ({}) }, warmup),
      )
    }
    const results = {
      date: new Date().toISOString(),
      machine,
      loadAverage: { before: loadBefore, after: loadAverage() },
      settings: {
        ...settings,
        scenarios: settings.scenarios.map((s) => s.id),
        cacheScenario: settings.cacheScenario?.id ?? null,
      },
      targetOverhead: TARGET_OVERHEAD,
      scenarios,
      cachedList,
    }
    console.log(`\n${report(results)}`)
    mkdirSync(RESULTS, { recursive: true })
    writeFileSync(join(RESULTS, 'cluster.json'), `${JSON.stringify(results, null, 2)}\n`)
    console.log(`\nSaved ${join(RESULTS, 'cluster.json')}`)
  } finally {
    await Promise.all(servers.map(stopServer))
    await Promise.all(proxies.map((started) => started.stop()))
    redis?.stop()
    await schema.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
