// `npm run bench`: Plinth against a hand-written floor on the same rows, in the same run,
// on SQLite, or with BENCH_DATABASE=postgres on PostgreSQL (BENCH_POSTGRES_URL).
// See docs/benchmarks.md for what each scenario measures and why it is fair.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describeMachine, loadAverage } from './machine.js'
import {
  call,
  FLOOR,
  FLOOR_POSTGRES,
  freePort,
  memoryOf,
  NODE_FLAGS,
  plinthServeArgs,
  profileFlags,
  startServer,
  stopServer,
} from './processes.js'
import { formatProfile, summarizeProfile } from './profile.js'
import { compare, formatReport, median, TARGETS } from './report.js'
import { bearer, chosenScenarios, listQuery, loadSettings, measure, SCENARIOS, signIn } from './scenarios.js'
import {
  CREATE_TITLE_PREFIX,
  databaseFile,
  describeDatabase,
  describePostgres,
  MEMBER,
  removeCreatedPostgresPosts,
  removeCreatedPosts,
  SUPERUSER,
  seed,
} from './seed.js'
import { freshPostgresSchema, number, plinthEnv } from './settings.js'

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))

/** Against a floor of the same database: variants of Plinth and Plinth alone are SQLite's. */
const againstFloor = (scenario) =>
  scenario.floor !== false && scenario.measured === undefined && scenario.reference === undefined

function readSettings() {
  const sync = (process.env.BENCH_SQLITE_SYNC ?? 'full').toLowerCase()
  if (sync !== 'full' && sync !== 'normal') throw new Error('BENCH_SQLITE_SYNC must be full or normal')
  const database = (process.env.BENCH_DATABASE ?? 'sqlite').toLowerCase()
  if (database !== 'sqlite' && database !== 'postgres')
    throw new Error('BENCH_DATABASE must be sqlite or postgres')
  return {
    ...loadSettings(),
    database,
    coldStarts: number('BENCH_COLD_STARTS', 5),
    sync,
    // On PostgreSQL, none when BENCH_SCENARIOS names only scenarios without a floor there.
    scenarios:
      database === 'sqlite' ? chosenScenarios(SCENARIOS) : chosenScenarios(SCENARIOS).filter(againstFloor),
    cpuProfile: process.env.BENCH_CPU_PROF === '1',
  }
}

/**
 * Where the rows live: a SQLite file in the data folder, or a PostgreSQL schema of the
 * run's own, dropped at the end. Both servers of a run read and write the same rows.
 */
async function openStore(settings, dataDir) {
  if (settings.database === 'sqlite') {
    const file = databaseFile(dataDir)
    return {
      databaseUrl: null,
      env: {},
      floor: FLOOR,
      floorArgs: ['--db', file, '--sync', settings.sync],
      describe: async () => describeDatabase(file),
      removeCreated: async () => removeCreatedPosts(file),
      close: async () => {},
    }
  }
  const schema = await freshPostgresSchema()
  const poolSize = '10'
  return {
    databaseUrl: schema.url,
    env: { PLINTH_DATABASE_URL: schema.url, PLINTH_DB_POOL_SIZE: poolSize },
    floor: FLOOR_POSTGRES,
    floorArgs: ['--url', schema.url, '--pool', poolSize],
    describe: () => describePostgres(schema.url),
    removeCreated: () => removeCreatedPostgresPosts(schema.url),
    close: () => schema.drop(),
  }
}

/** The variants of Plinth a scenario may measure or compare against, by name. */
const VARIANTS = {
  hooked: {
    name: 'Plinth+hooks',
    args: ['--config', fileURLToPath(new URL('./hooks.config.js', import.meta.url))],
  },
  uncached: { name: 'Plinth, cache off', env: { PLINTH_CACHE: 'off' } },
}

async function startPlinth(dataDir, settings, store, profileDir, variant = { name: 'Plinth' }) {
  const port = await freePort()
  return startServer({
    name: variant.name,
    args: plinthServeArgs(dataDir, port, { profileDir, extra: variant.args }),
    env: plinthEnv(settings.sync, { ...store.env, ...variant.env }),
    port,
  })
}

async function startFloor(store, profileDir, { minimal = false } = {}) {
  const port = await freePort()
  const flags = [...NODE_FLAGS, ...profileFlags(profileDir)]
  return startServer({
    name: minimal ? 'minimal floor' : 'floor',
    args: [
      ...flags,
      store.floor,
      ...store.floorArgs,
      '--port',
      String(port),
      ...(minimal ? ['--minimal'] : []),
    ],
    env: process.env,
    port,
  })
}

/** The minimal floor answers the plain rows: the same records, by id, as the exact floor's. */
async function sameRows(floor, minimal, seeded) {
  const posts = '/api/collections/posts/records'
  const ids = (text) => {
    const body = JSON.parse(text)
    return JSON.stringify(body.items ? body.items.map((item) => item.id) : body.id)
  }
  const paths = [`${posts}/${seeded.postIds[0]}`, `${posts}${listQuery('author', seeded.authorIds[0])}`]
  for (const path of paths) {
    const [exact, plain] = await Promise.all([call(`${floor.url}${path}`), call(`${minimal.url}${path}`)])
    if (exact.status !== 200 || plain.status !== 200 || ids(exact.text) !== ids(plain.text)) return false
  }
  return true
}

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

/**
 * The minimal floor starts in turn with Plinth: what Node, Fastify and better-sqlite3 alone
 * take to answer on this machine, against which the fixed target can be read.
 */
async function measureColdStarts(dataDir, settings, store) {
  const samplesMs = []
  const floorSamplesMs = []
  for (let i = 0; i < settings.coldStarts; i++) {
    const server = await startPlinth(dataDir, settings, store)
    samplesMs.push(server.startMs)
    await stopServer(server)
    const floorServer = await startFloor(store, undefined, { minimal: true })
    floorSamplesMs.push(floorServer.startMs)
    await stopServer(floorServer)
  }
  console.log(
    `Cold start: ${samplesMs.map(Math.round).join(', ')} ms; minimal floor ${floorSamplesMs.map(Math.round).join(', ')} ms.`,
  )
  const medianMs = median(samplesMs)
  return {
    samplesMs,
    medianMs,
    minimalFloor: { samplesMs: floorSamplesMs, medianMs: median(floorSamplesMs) },
    pass: medianMs < TARGETS.coldStartMs,
  }
}

async function main() {
  const settings = readSettings()
  const machine = describeMachine()
  const loadBefore = loadAverage()
  if (settings.scenarios.length === 0)
    return console.log(
      `Core benchmark on ${settings.database} skipped: BENCH_SCENARIOS names none it runs there`,
    )
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-'))
  let store
  try {
    store = await openStore(settings, dataDir)
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true })
    return console.log(
      `Core benchmark on ${settings.database} skipped: it does not answer (${error.message})`,
    )
  }
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
      databaseUrl: store.databaseUrl,
    })
    const data = { ...(await store.describe()), authors: settings.authors, members: settings.authors }
    console.log(`Seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s (${data.sizeMb} MB).`)

    // The start and memory targets are the embedded default's.
    const coldStart =
      settings.database === 'sqlite' ? await measureColdStarts(dataDir, settings, store) : null

    const profileDirs = settings.cpuProfile ? profileFolders() : {}
    // Both servers stay up, but only one is under load at a time: an idle server costs
    // no CPU, and each scenario's two measurements are taken back to back.
    const plinth = await startPlinth(dataDir, settings, store, profileDirs.Plinth)
    servers.push(plinth)
    const floor = await startFloor(store, profileDirs.floor)
    servers.push(floor)
    const minimalFloor = await startFloor(store, undefined, { minimal: true })
    servers.push(minimalFloor)

    const byName = { plinth, floor }
    const tokensByServer = new Map([
      [
        plinth,
        {
          superuser: await signIn(plinth, '_superusers', SUPERUSER),
          member: await signIn(plinth, 'members', MEMBER),
        },
      ],
    ])
    const tokens = tokensByServer.get(plinth)
    const wanted = new Set(settings.scenarios.flatMap((s) => [s.measured, s.reference]))
    for (const [name, variant] of Object.entries(VARIANTS)) {
      if (!wanted.has(name)) continue
      byName[name] = await startPlinth(dataDir, settings, store, undefined, variant)
      servers.push(byName[name])
      // Tokens name the server that issued them (iss), so each variant signs in itself.
      tokensByServer.set(byName[name], {
        superuser: await signIn(byName[name], '_superusers', SUPERUSER),
        member: await signIn(byName[name], 'members', MEMBER),
      })
    }
    const responsesMatch = await compareResponses(plinth, floor, tokens, seeded)
    responsesMatch.minimalRows = await sameRows(floor, minimalFloor, seeded)
    responsesMatch.all &&= responsesMatch.minimalRows
    await store.removeCreated()
    const removeCreated = () => store.removeCreated()
    const tokensOf = (server) => tokensByServer.get(server) ?? tokens
    const context = { settings, dataDir, removeCreated, seeded, tokensOf }
    const runScenario = async (scenario) => {
      const alone = scenario.floor === false
      const measured = byName[scenario.measured ?? 'plinth']
      const reference = byName[scenario.reference ?? 'floor']
      // Against the floor, also against the minimal one; variants of Plinth only against each other.
      const withMinimal = !alone && scenario.reference === undefined
      const runs = { plinth: [], floor: [], minimal: [] }
      // Alternating rounds, each side's median kept: a burst of other work on the
      // machine then spoils one round, not the ratio.
      for (let round = 0; round < settings.rounds; round++) {
        const warmup = round === 0 ? settings.warmup : 0
        runs.plinth.push(await measure(measured, scenario, context, warmup))
        if (!alone) runs.floor.push(await measure(reference, scenario, context, warmup))
        if (withMinimal) runs.minimal.push(await measure(minimalFloor, scenario, context, warmup))
      }
      return compare(scenario, runs.plinth, alone ? null : runs.floor, withMinimal ? runs.minimal : null)
    }
    const scenarios = []
    for (const scenario of settings.scenarios.filter((s) => s.floor !== false))
      scenarios.push(await runScenario(scenario))
    // Taken before the Plinth-only scenarios: a sign-in holds argon2id's 19 MiB per password
    // check while it runs, by design, and the memory target is about serving records.
    const memory = {
      plinth: memoryOf(plinth.child.pid),
      floor: memoryOf(floor.child.pid),
      minimalFloor: memoryOf(minimalFloor.child.pid),
    }
    memory.pass = settings.database === 'sqlite' ? memory.plinth.rssMb < TARGETS.rssMb : null
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
    const saved = join(
      RESULTS,
      settings.database === 'sqlite' ? 'latest.json' : `latest-${settings.database}.json`,
    )
    writeFileSync(saved, `${JSON.stringify(results, null, 2)}\n`)
    console.log(`\nSaved ${saved}`)
  } finally {
    await Promise.all(servers.map(stopServer))
    await store.close()
    if (process.env.BENCH_KEEP_DATA === '1') console.log(`Data kept in ${dataDir}`)
    else rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
