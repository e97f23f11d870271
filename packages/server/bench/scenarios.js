// What a benchmark of the records API sends, shared by the core bench (run.js) and the
// cluster bench (cluster.js): the scenarios, the tokens they carry, the rows they ask for,
// and one measured round of one scenario against one server.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { call, runLoad } from './processes.js'
import { NOISY_CORES } from './report.js'
import { CREATE_TITLE_PREFIX, MEMBER } from './seed.js'
import { number } from './settings.js'

// `token` names whose bearer token Plinth gets (none: anonymous). `floor: false` marks a
// scenario measured on Plinth alone. `measured` and `reference` name the two servers compared
// when they are not Plinth and the floor: Plinth with hooks, or with its read cache off.
export const SCENARIOS = [
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
    measured: 'hooked',
    reference: 'plinth',
    title: 'create with a no-op before- and after-hook, against none',
  },
  // The lists of the filtered-list scenarios, answered from the read cache, against the same
  // build with PLINTH_CACHE=off: what the cache saves.
  {
    id: 'list-cached',
    kind: 'list',
    collection: 'posts',
    token: null,
    reference: 'uncached',
    title: 'filtered list, read cache on, against off',
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

/** How long and how hard to load, and how much data to seed: BENCH_* or the defaults. */
export function loadSettings() {
  return {
    duration: number('BENCH_DURATION', 10),
    warmup: number('BENCH_WARMUP', 2),
    connections: number('BENCH_CONNECTIONS', 10),
    posts: number('BENCH_POSTS', 100_000),
    authors: number('BENCH_AUTHORS', 100),
    rounds: number('BENCH_ROUNDS', 3),
  }
}

/** The scenarios of `from` that BENCH_SCENARIOS names by id or kind, or all of them. */
export function chosenScenarios(from) {
  const only = process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim())
  const scenarios = only ? from.filter((s) => only.includes(s.id) || only.includes(s.kind)) : from
  if (scenarios.length === 0) throw new Error(`BENCH_SCENARIOS matches none of ${from.map((s) => s.id)}`)
  return scenarios
}

export async function signIn(plinth, collection, { email, password }) {
  const response = await call(`${plinth.url}/api/collections/${collection}/auth-with-password`, {
    method: 'POST',
    body: { identity: email, password },
  })
  if (response.status !== 200)
    throw new Error(`sign-in to ${collection} failed: ${response.status} ${response.text}`)
  return JSON.parse(response.text).token
}

export const bearer = (token) => ({ authorization: `Bearer ${token}` })

/**
 * The superuser scenarios send the floor the same header, which it ignores, so both parse
 * the same bytes. The owner rule's ratio is against the floor without auth: no token.
 */
export function headersFor(scenario, server, tokens) {
  if (!scenario.token || (scenario.token === 'member' && server.name.endsWith('floor'))) return {}
  return bearer(tokens[scenario.token])
}

/** The rows a scenario asks for: every post and author, or the member's own notes. */
export function rowsFor(scenario, seeded) {
  if (scenario.collection === 'notes')
    return { relation: 'owner', recordIds: seeded.memberNoteIds, parentIds: [seeded.memberId] }
  return { relation: 'author', recordIds: seeded.postIds, parentIds: seeded.authorIds }
}

export const listQuery = (relation, id) =>
  `?filter=${encodeURIComponent(`${relation}="${id}"`)}&sort=-created&perPage=20`

export async function measure(server, scenario, context, warmup) {
  if (scenario.kind === 'create') await context.removeCreated()
  const plan = join(context.dataDir, `plan-${scenario.id}-${server.name}.json`)
  writeFileSync(
    plan,
    JSON.stringify({
      url: server.url,
      serverPids: server.pids ?? [server.child.pid],
      kind: scenario.kind,
      collection: scenario.collection,
      connections: context.settings.connections,
      duration: context.settings.duration,
      warmup,
      rate: context.rate,
      headers: headersFor(scenario, server, context.tokensOf(server)),
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
