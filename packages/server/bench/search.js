// `npm run bench:search`: full-text search on BENCH_SEARCH_POSTS posts (100,000 by default)
// with a body of about 100 words each: two-word searches with perPage=20 against the same
// searches answered by search-floor.js, a hand-written FTS5 query on the same file, in
// alternating rounds. Target: a ratio of at least 0.6. Also reports how long adding search
// to the populated collection took (the index build, logged as it goes).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { v7 as uuidv7 } from 'uuid'
import { loadConfig } from '../dist/config/index.js'
import { createCore } from '../dist/core/index.js'
import { call, freePort, NODE_FLAGS, plinthServeArgs, runLoad, startServer, stopServer } from './processes.js'
import { plinthEnv, withoutPlinthSettings } from './settings.js'

const SEARCH_FLOOR = fileURLToPath(new URL('./search-floor.js', import.meta.url))
const POSTS = Number(process.env.BENCH_SEARCH_POSTS ?? 100_000)
const DURATION = Number(process.env.BENCH_DURATION ?? 10)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const TARGET = 0.6
const VOCABULARY = 20_000
const BODY_WORDS = 100
const ROWS_PER_STATEMENT = 1000

/** A fixed sequence, so two runs seed the same texts and ask the same searches. */
function sequence(seed) {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** Made-up words of two to four syllables; no stemmer folds two of them into one. */
function vocabulary(random) {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'be', 'da', 'fu', 'go', 'pe', 'zi']
  const words = new Set()
  while (words.size < VOCABULARY) {
    let word = ''
    for (let n = 2 + Math.floor(random() * 3); n > 0; n--) word += syllables[Math.floor(random() * 14)]
    words.add(`${word}x`)
  }
  return [...words]
}

/** Word ranks drawn by Zipf's law, as in real text: a few words everywhere, most rare. */
function zipf(random, size) {
  const cumulative = new Float64Array(size)
  let sum = 0
  for (let rank = 0; rank < size; rank++) cumulative[rank] = sum += 1 / (rank + 1)
  return () => {
    const target = random() * sum
    let low = 0
    let high = size - 1
    while (low < high) {
      const middle = (low + high) >> 1
      if (cumulative[middle] < target) low = middle + 1
      else high = middle
    }
    return low
  }
}

async function seed(dataDir) {
  const core = await createCore(
    loadConfig({}, { dataDir, logLevel: 'info', logFormat: 'json', sqliteSync: 'normal' }),
  )
  try {
    await core.collections.create({
      name: 'articles',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'body', type: 'text' },
      ],
      listRule: '',
      viewRule: '',
    })
    const random = sequence(7)
    const words = vocabulary(random)
    const rank = zipf(random, words.length)
    const text = (count) => Array.from({ length: count }, () => words[rank()]).join(' ')
    const start = Date.parse('2025-01-01T00:00:00.000Z')
    for (let done = 0; done < POSTS; done += ROWS_PER_STATEMENT) {
      const rows = Array.from({ length: Math.min(ROWS_PER_STATEMENT, POSTS - done) }, (_, i) => {
        const at = new Date(start + (done + i) * 60_000).toISOString()
        return {
          id: uuidv7(),
          _version: 'v1',
          created: at,
          updated: at,
          title: text(6),
          body: text(BODY_WORDS),
        }
      })
      await core.dialect.db.insertInto('articles').values(rows).execute()
    }
    const started = performance.now()
    await core.collections.update('articles', { search: { fields: ['title', 'body'], language: 'english' } })
    const buildSeconds = (performance.now() - started) / 1000
    // Two words of the middle ranks: each is in a few percent of the posts, both in fewer.
    const searches = Array.from({ length: 500 }, () => {
      const pick = () => words[100 + Math.floor(random() * 900)]
      return `${pick()} ${pick()}`
    })
    return { buildSeconds, searches, ftsTable: `_fts_${core.collections.get('articles').id}` }
  } finally {
    await core.close()
  }
}

async function measure(server, dataDir, searches, warmup) {
  const plan = join(dataDir, `plan-${server.name}.json`)
  writeFileSync(
    plan,
    JSON.stringify({
      url: server.url,
      serverPid: server.child.pid,
      kind: 'search',
      collection: 'articles',
      connections: CONNECTIONS,
      duration: DURATION,
      warmup,
      headers: {},
      searches,
    }),
  )
  const result = await runLoad(plan)
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${server.name}: failed requests ${JSON.stringify(result)}`)
  console.log(
    `  ${server.name}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms`,
  )
  return result
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-search-'))
  const servers = []
  try {
    console.log(`Seeding ${POSTS} posts of about ${BODY_WORDS} words, then adding search to them…`)
    const seeded = await seed(dataDir)
    console.log(`Adding search built the index in ${seeded.buildSeconds.toFixed(1)} s`)
    const plinthPort = await freePort()
    servers.push(
      await startServer({
        name: 'Plinth',
        args: plinthServeArgs(dataDir, plinthPort),
        env: plinthEnv('full'),
        port: plinthPort,
      }),
    )
    const floorPort = await freePort()
    const floorArgs = ['--db', join(dataDir, 'data.db'), '--port', String(floorPort)]
    servers.push(
      await startServer({
        name: 'floor',
        args: [
          ...NODE_FLAGS,
          SEARCH_FLOOR,
          ...floorArgs,
          '--collection',
          'articles',
          '--fts',
          seeded.ftsTable,
        ],
        env: withoutPlinthSettings(),
        port: floorPort,
      }),
    )
    const [plinth, floor] = servers
    const probe = `/api/collections/articles/records?search=${encodeURIComponent(seeded.searches[0])}&perPage=20`
    const [fromPlinth, fromFloor] = await Promise.all([call(plinth.url + probe), call(floor.url + probe)])
    if (fromPlinth.text !== fromFloor.text)
      console.warn('warning: Plinth and the floor answer the probe differently')
    console.log(`A probe search matches ${JSON.parse(fromPlinth.text).totalItems} posts`)

    const rounds = { Plinth: [], floor: [] }
    for (let round = 0; round < ROUNDS; round++)
      for (const server of servers)
        rounds[server.name].push(await measure(server, dataDir, seeded.searches, round === 0 ? WARMUP : 0))
    const summary = (name) => {
      const list = rounds[name]
      const rate = median(list.map((r) => r.requestsPerSecond))
      const chosen = list.find((r) => r.requestsPerSecond === rate)
      return { rate, p50: chosen.latencyMs.p50, p99: chosen.latencyMs.p99 }
    }
    const [mine, theirs] = [summary('Plinth'), summary('floor')]
    const ratio = mine.rate / theirs.rate
    console.log(`Two-word search, perPage=20, ${CONNECTIONS} connections, median of ${ROUNDS} rounds:`)
    for (const [name, s] of [
      ['Plinth', mine],
      ['floor ', theirs],
    ])
      console.log(`  ${name} ${Math.round(s.rate)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms`)
    console.log(`ratio ${ratio.toFixed(2)} (${ratio >= TARGET ? 'meets' : 'misses'} the target of ${TARGET})`)
  } finally {
    for (const server of servers) await stopServer(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
