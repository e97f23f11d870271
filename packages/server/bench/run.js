// `npm run bench`: Plinth against a hand-written floor on the same rows, in the same run.
// See docs/benchmarks.md for what each scenario measures and why it is fair.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeMachine, loadAverage } from './machine.js'
import {
  CLI,
  call,
  FLOOR,
  freePort,
  memoryOf,
  NODE_FLAGS,
  runLoad,
  startServer,
  stopServer,
} from './processes.js'
import { formatProfile, summarizeProfile } from './profile.js'
import { compare, formatReport, median, NOISY_CORES, TARGETS } from './report.js'
import {
  CREATE_TITLE_PREFIX,
  databaseFile,
  describeDatabase,
  MEMBER,
  removeCreatedPosts,
  SUPERUSER,
  seed,
} from './seed.js'

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))

function number(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`)
  return value
}

// `token` names whose bearer token Plinth gets (none: anonymous). `floor: false` marks a
// scenario measured on Plinth alone.
const SCENARIOS = [
  {
    id: 'view-bearer',
    kind: 'view',
    collection: 'posts',
    token: 'superuser',
    title: 'read by id, bearer token',
  },
  { id: 'view-anonymous', kind: 'view', collection: 'posts', token: null, title: 'read by id, no token' },
  {
    id: 'list-bearer',
    kind: 'list',
    collection: 'posts',
    token: 'superuser',
    title: 'filtered list, bearer token',
  },
  { id: 'list-anonymous', kind: 'list', collection: 'posts', token: null, title: 'filtered list, no token' },
  {
    id: 'create-bearer',
    kind: 'create',
    collection: 'posts',
    token: 'superuser',
    title: 'create, bearer token',
  },
  { id: 'create-anonymous', kind: 'create', collection: 'posts', token: null, title: 'create, no token' },
  {
    id: 'view-owner',
    kind: 'view',
    collection: 'notes',
    token: 'member',
    title: 'read by id, bearer token, owner rule',
  },
  {
    id: 'list-owner',
    kind: 'list',
    collection: 'notes',
    token: 'member',
    title: 'filtered list, bearer token, owner rule',
  },
  // Against the same build without a project config: what hooks cost when they do nothing.
  {
    id: 'create-hooks',
    kind: 'create',
    collection: 'posts',
    token: 'superuser',
    against: 'plinth',
    title: 'create with a no-op before- and after-hook, against none',
  },
  // Bounded by argon2id by design: reported, with no floor to compare against.
  {
    id: 'sign-in',
    kind: 'sign-in',
    collection: 'members',
    token: null,
    floor: false,
    title: 'sign-in, password',
  },
]

function readSettings() {
  const sync = (process.env.BENCH_SQLITE_SYNC ?? 'full').toLowerCase()
  if (sync !== 'full' && sync !== 'normal') throw new Error('BENCH_SQLITE_SYNC must be full or normal')
  const only = process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim())
  const scenarios = only ? SCENARIOS.filter((s) => only.includes(s.id) || only.includes(s.kind)) : SCENARIOS
  if (scenarios.length === 0) throw new Error(`BENCH_SCENARIOS matches none of ${SCENARIOS.map((s) => s.id)}`)
  return {
    duration: number('BENCH_DURATION', 10),
    warmup: number('BENCH_WARMUP', 2),
    connections: number('BENCH_CONNECTIONS', 10),
    posts: number('BENCH_POSTS', 100_000),
    authors: number('BENCH_AUTHORS', 100),
    rounds: number('BENCH_ROUNDS', 3),
    coldStarts: number('BENCH_COLD_STARTS', 5),
    sync,
    scenarios,
    cpuProfile: process.env.BENCH_CPU_PROF === '1',
  }
}

/** The environment of a Plinth server: nothing inherited from the caller's PLINTH_* settings. */
function plinthEnv(settings) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PLINTH_')))
  return {
    ...env,
    PLINTH_LOG_LEVEL: 'warn',
    PLINTH_SQLITE_SYNC: settings.sync,
    // Turns off per-IP limits once they exist: the load comes from one address.
    PLINTH_RATE_LIMITS: 'off',
    // Long enough that the token outlives any configured run.
    PLINTH_TOKEN_TTL: '86400',
  }
}

const HOOKS_CONFIG = fileURLToPath(new URL('./hooks.config.js', import.meta.url))

async function startPlinth(dataDir, settings, profileDir, { hooks = false } = {}) {
  const port = await freePort()
  const flags = [...NODE_FLAGS, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])]
  const project = hooks ? ['--config', HOOKS_CONFIG] : []
  return startServer({
    name: hooks ? 'Plinth+hooks' : 'Plinth',
    args: [...flags, CLI, 'serve', '--dir', dataDir, '--port', String(port), ...project],
    env: plinthEnv(settings),
    port,
  })
}

async function startFloor(dataDir, settings, profileDir) {
  const port = await freePort()
  const flags = [...NODE_FLAGS, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])]
  return startServer({
    name: 'floor',
    args: [...flags, FLOOR, '--db', databaseFile(dataDir), '--port', String(port), '--sync', settings.sync],
    env: process.env,
    port,
  })
}

async function signIn(plinth, collection, { email, password }) {
  const response = await call(`${plinth.url}/api/collections/${collection}/auth-with-password`, {
    method: 'POST',
    body: { identity: email, password },
  })
  if (response.status !== 200)
    throw new Error(`sign-in to ${collection} failed: ${response.status} ${response.text}`)
  return JSON.parse(response.text).token
}

const bearer = (token) => ({ authorization: `Bearer ${token}` })

/**
 * The superuser scenarios send the floor the same header, which it ignores, so both parse
 * the same bytes. The owner rule's ratio is against the floor without auth: no token.
 */
function headersFor(scenario, server, tokens) {
  if (!scenario.token || (scenario.token === 'member' && server.name === 'floor')) return {}
  return bearer(tokens[scenario.token])
}

/** The rows a scenario asks for: every post and author, or the member's own notes. */
function rowsFor(scenario, seeded) {
  if (scenario.collection === 'notes')
    return { relation: 'owner', recordIds: seeded.memberNoteIds, parentIds: [seeded.memberId] }
  return { relation: 'author', recordIds: seeded.postIds, parentIds: seeded.authorIds }
}

const listQuery = (relation, id) =>
  `?filter=${encodeURIComponent(`${relation}="${id}"`)}&sort=-created&perPage=20`

/**
 * The ratio means something only if both servers give the same answer: same records,
 * same keys in the same order, same list envelope. Plinth reads notes as their owner
 * and the floor without a token; without a token Plinth must find none of them, or the
 * owner rule was not applied and the notes rows would measure nothing more than posts.
 */
async function compareResponses(plinth, floor, tokens, seeded) {
  const posts = '/api/collections/posts/records'
  const notes = '/api/collections/notes/records'
  const superuser = { headers: bearer(tokens.superuser) }
  const member = { headers: bearer(tokens.member) }
  const both = (path, plinthOptions, floorOptions = plinthOptions) =>
    Promise.all([call(`${plinth.url}${path}`, plinthOptions), call(`${floor.url}${path}`, floorOptions)])
  const same = ([fromPlinth, fromFloor]) => fromPlinth.status === 200 && fromPlinth.text === fromFloor.text

  const view = same(await both(`${posts}/${seeded.postIds[0]}`, superuser))
  const list = same(await both(`${posts}${listQuery('author', seeded.authorIds[0])}`, superuser))
  const body = { title: `${CREATE_TITLE_PREFIX} check`, author: seeded.authorIds[0], views: 1 }
  const [plinthCreate, floorCreate] = await both(posts, { ...superuser, method: 'POST', body })
  const shape = (text) => {
    const record = JSON.parse(text)
    return JSON.stringify(Object.entries(record).map(([key, value]) => [key, typeof value]))
  }
  const create =
    plinthCreate.status === 201 &&
    floorCreate.status === 201 &&
    shape(plinthCreate.text) === shape(floorCreate.text)

  const noteView = `${notes}/${seeded.memberNoteIds[0]}`
  const noteList = `${notes}${listQuery('owner', seeded.memberId)}`
  const ownerView = same(await both(noteView, member, {}))
  const ownerList = same(await both(noteList, member, {}))
  const [anonymousView, anonymousList] = await Promise.all([
    call(`${plinth.url}${noteView}`),
    call(`${plinth.url}${noteList}`),
  ])
  const ownerRule =
    seeded.memberNoteIds.length > 0 &&
    anonymousView.status === 404 &&
    anonymousList.status === 200 &&
    JSON.parse(anonymousList.text).totalItems === 0
  const all = view && list && create && ownerView && ownerList && ownerRule
  return { view, list, create, ownerView, ownerList, ownerRule, all }
}

async function measure(server, scenario, context, warmup) {
  if (scenario.kind === 'create') removeCreatedPosts(context.dbFile)
  const plan = join(context.dataDir, `plan-${scenario.id}-${server.name}.json`)
  writeFileSync(
    plan,
    JSON.stringify({
      url: server.url,
      serverPid: server.child.pid,
      kind: scenario.kind,
      collection: scenario.collection,
      connections: context.settings.connections,
      duration: context.settings.duration,
      warmup,
      headers: headersFor(
        scenario,
        server,
        server === context.hooked ? context.hookedTokens : context.tokens,
      ),
      ...rowsFor(scenario, context.seeded),
      titlePrefix: CREATE_TITLE_PREFIX,
      credentials: { identity: MEMBER.email, password: MEMBER.password },
    }),
  )
  process.stdout.write(`  ${scenario.title}: ${server.name}… `)
  const result = await runLoad(plan)
  const other = result.cpu.otherCores + result.cpu.stealCores
  const note = other >= NOISY_CORES ? ` (other processes used ${other.toFixed(2)} cores meanwhile)` : ''
  process.stdout.write(`${Math.round(result.requestsPerSecond)} req/s${note}\n`)
  return result
}

/** One folder per server, emptied, so each holds this run's profile only. */
function profileFolders() {
  const dirs = { Plinth: join(RESULTS, 'profiles', 'plinth'), floor: join(RESULTS, 'profiles', 'floor') }
  for (const dir of Object.values(dirs)) {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
  }
  return dirs
}

function newestProfile(dir) {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
  return files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]
}

async function main() {
  const settings = readSettings()
  const machine = describeMachine()
  const loadBefore = loadAverage()
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-'))
  const dbFile = databaseFile(dataDir)
  const servers = []
  try {
    console.log(
      `Seeding ${settings.posts} posts over ${settings.authors} authors and as many notes over as many members in ${dataDir}…`,
    )
    const seedStart = performance.now()
    const seeded = await seed({
      dataDir,
      posts: settings.posts,
      authors: settings.authors,
      sync: settings.sync,
    })
    const data = { ...describeDatabase(dbFile), authors: settings.authors, members: settings.authors }
    console.log(`Seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (${data.sizeMb} MB).`)

    const samplesMs = []
    for (let i = 0; i < settings.coldStarts; i++) {
      const server = await startPlinth(dataDir, settings)
      samplesMs.push(server.startMs)
      await stopServer(server)
    }
    const coldStart = { samplesMs, medianMs: median(samplesMs) }
    coldStart.pass = coldStart.medianMs < TARGETS.coldStartMs
    console.log(`Cold start: ${samplesMs.map(Math.round).join(', ')} ms.`)

    const profileDirs = settings.cpuProfile ? profileFolders() : {}
    // Both servers stay up, but only one is under load at a time: an idle server costs
    // no CPU, and each scenario's two measurements are taken back to back.
    const plinth = await startPlinth(dataDir, settings, profileDirs.Plinth)
    servers.push(plinth)
    const floor = await startFloor(dataDir, settings, profileDirs.floor)
    servers.push(floor)

    const hooked = settings.scenarios.some((s) => s.against === 'plinth')
      ? await startPlinth(dataDir, settings, undefined, { hooks: true })
      : null
    if (hooked) servers.push(hooked)

    const tokens = {
      superuser: await signIn(plinth, '_superusers', SUPERUSER),
      member: await signIn(plinth, 'members', MEMBER),
    }
    // Tokens name the server that issued them (iss), so the hooked server signs in itself.
    const hookedTokens = hooked && { superuser: await signIn(hooked, '_superusers', SUPERUSER) }
    const responsesMatch = await compareResponses(plinth, floor, tokens, seeded)
    removeCreatedPosts(dbFile)
    const context = { settings, dataDir, dbFile, seeded, tokens, hooked, hookedTokens }
    const runScenario = async (scenario) => {
      const alone = scenario.floor === false
      // A scenario `against: 'plinth'` measures a variant of Plinth against Plinth itself.
      const [measured, reference] = scenario.against === 'plinth' ? [hooked, plinth] : [plinth, floor]
      const runs = { plinth: [], floor: [] }
      // Alternating rounds, each side's median kept: a burst of other work on the
      // machine then spoils one round, not the ratio.
      for (let round = 0; round < settings.rounds; round++) {
        const warmup = round === 0 ? settings.warmup : 0
        runs.plinth.push(await measure(measured, scenario, context, warmup))
        if (!alone) runs.floor.push(await measure(reference, scenario, context, warmup))
      }
      return compare(scenario, runs.plinth, alone ? null : runs.floor)
    }
    const scenarios = []
    for (const scenario of settings.scenarios.filter((s) => s.floor !== false))
      scenarios.push(await runScenario(scenario))
    // Taken before the Plinth-only scenarios: a sign-in holds argon2id's 19 MiB per password
    // check while it runs, by design, and the memory target is about serving records.
    const memory = { plinth: memoryOf(plinth.child.pid), floor: memoryOf(floor.child.pid) }
    memory.pass = memory.plinth.rssMb < TARGETS.rssMb
    const plinthAlone = settings.scenarios.filter((s) => s.floor === false)
    for (const scenario of plinthAlone) scenarios.push(await runScenario(scenario))
    if (plinthAlone.length > 0) memory.plinthAtEnd = memoryOf(plinth.child.pid)

    await Promise.all(servers.map(stopServer))
    const results = {
      date: new Date().toISOString(),
      machine,
      loadAverage: { before: loadBefore, after: loadAverage() },
      settings: { ...settings, scenarios: settings.scenarios.map((s) => s.id) },
      data,
      targets: TARGETS,
      responsesMatch,
      scenarios,
      coldStart,
      memory,
    }
    console.log('')
    console.log(formatReport(results))
    if (settings.cpuProfile) {
      results.profiles = {}
      for (const [name, dir] of Object.entries(profileDirs)) {
        const file = newestProfile(dir)
        const requests = scenarios
          .flatMap((s) => (name === 'Plinth' ? s.plinth.rounds : (s.floor?.rounds ?? [])))
          .reduce((sum, run) => sum + run.requestsTotal + run.warmupRequests, 0)
        results.profiles[name] = { file, ...summarizeProfile(file, { requests }) }
        console.log(`\nCPU profile of ${name}: ${formatProfile(results.profiles[name])}\n(${file})`)
      }
    }
    mkdirSync(RESULTS, { recursive: true })
    writeFileSync(join(RESULTS, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`)
    console.log(`\nSaved ${join(RESULTS, 'latest.json')}`)
  } finally {
    await Promise.all(servers.map(stopServer))
    if (process.env.BENCH_KEEP_DATA === '1') console.log(`Data kept in ${dataDir}`)
    else rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
