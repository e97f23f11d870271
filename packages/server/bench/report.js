/**
 * Targets from the performance issues; a miss is reported, never a failed exit. Ratio
 * targets are per kind of scenario, unless a scenario id has its own; null means the
 * issues ask for the number to be reported, not for a ratio. `exact` is against the floor
 * that gives Plinth's answer, `minimal` against the one that gives the plain row.
 */
export const TARGETS = {
  exact: {
    view: 0.95,
    list: 0.6,
    create: 0.95,
    'view-owner': 0.55,
    'create-hooks': 0.9,
    'list-cached': null,
    'list-owner': null,
    'sign-in': null,
  },
  minimal: { view: 0.7, list: 0.85, create: 0.95, 'view-owner': 0.6, 'list-owner': null },
  coldStartMs: 300,
  rssMb: 110,
}

const targetOf = (scenario, against = 'exact') => {
  const targets = TARGETS[against]
  return Object.hasOwn(targets, scenario.id) ? targets[scenario.id] : (targets[scenario.kind] ?? null)
}

/** Other processes using this much CPU during a run make its numbers suspect. */
export const NOISY_CORES = 0.25

const verdict = (ok) => (ok ? 'PASS' : 'FAIL')
const round = (value, digits = 0) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null)

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** The round with the median throughput, so its latencies come from one real run. */
export function medianRound(rounds) {
  const sorted = [...rounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], rounds }
}

/**
 * A scenario's Plinth and floor measurements side by side, with the ratio and its verdict.
 * Without floor rounds (null) there is no ratio: Plinth's numbers are reported alone.
 */
export function compare(scenario, plinthRounds, floorRounds, minimalRounds = null) {
  const plinth = medianRound(plinthRounds)
  const floor = floorRounds ? medianRound(floorRounds) : null
  const minimal = minimalRounds ? medianRound(minimalRounds) : null
  const ratioTo = (other) => (other ? round(plinth.requestsPerSecond / other.requestsPerSecond, 3) : null)
  const ratio = ratioTo(floor)
  const minimalRatio = ratioTo(minimal)
  const target = targetOf(scenario)
  const minimalTarget = minimal ? targetOf(scenario, 'minimal') : null
  // Errors or non-2xx answers mean a run measured something else than the scenario.
  const isClean = (run) =>
    run.rounds.every((round) => round.errors === 0 && round.timeouts === 0 && round.non2xx === 0)
  const isNoisy = (run) => run.cpu.otherCores + run.cpu.stealCores >= NOISY_CORES
  const clean = [plinth, floor, minimal].every((run) => run === null || isClean(run))
  const meets = (value, goal) => goal === null || value === null || value >= goal
  const judged = (target !== null && ratio !== null) || (minimalTarget !== null && minimalRatio !== null)
  return {
    id: scenario.id,
    title: scenario.title,
    kind: scenario.kind,
    collection: scenario.collection,
    token: scenario.token,
    plinth,
    floor,
    minimal,
    ratio,
    target,
    minimalRatio,
    minimalTarget,
    pass: judged ? clean && meets(ratio, target) && meets(minimalRatio, minimalTarget) : null,
    clean,
    noisy: [plinth, floor, minimal].some((run) => run !== null && isNoisy(run)),
  }
}

/** Lines of a plain-text table: the first column left-aligned, the others right-aligned. */
export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)))
  const line = (cells) =>
    cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i])))
  return [
    line(header).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(r).join('  ')),
  ]
}

const NONE = '—'
const ms = (value) => (value === null || value === undefined ? '-' : value.toFixed(value < 10 ? 2 : 1))
const megabytes = ({ rssMb, peakRssMb }) => `${rssMb.toFixed(0)} MB (peak ${peakRssMb.toFixed(0)} MB)`
const rps = (value) => Math.round(value).toLocaleString('en-US')

/** A ratio, cut rather than rounded (so a 0.598 never reads as a 0.60 that failed), and its target. */
function ratioCell(ratio, target) {
  if (ratio === null) return NONE
  const cut = (Math.floor(ratio * 100) / 100).toFixed(2)
  return target === null ? cut : `${cut} (>= ${target.toFixed(2)})`
}

const rounds = ({ rounds, duration }) =>
  rounds === 1 ? `one ${duration} s run` : `${rounds} alternating ${duration} s rounds (median shown)`

export function formatReport(results) {
  const { machine, settings, data, scenarios, coldStart, memory } = results
  const out = []
  out.push(`Plinth benchmark, ${results.date}`)
  out.push(
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, ${machine.kernel}`,
  )
  if (results.loadAverage.before)
    out.push(
      `Load average (1/5/15 min): ${results.loadAverage.before.join(' ')} before, ${results.loadAverage.after.join(' ')} after`,
    )
  out.push(
    `Data: ${data.posts.toLocaleString('en-US')} posts over ${data.authors} authors, ${data.notes.toLocaleString('en-US')} notes over ${data.members} members (${data.sizeMb} MB), ${data.engine}${settings.database === 'postgres' ? '' : `, synchronous=${settings.sync.toUpperCase()}, WAL`}`,
  )
  out.push(
    `Load: ${settings.connections} connections; per scenario and server, ${rounds(settings)} after ${settings.warmup} s of warm-up; one server under load at a time`,
  )
  out.push('')
  const result = (s) => {
    if (!s.clean) return 'FAIL (errors)'
    return s.pass === null ? 'reported' : verdict(s.pass)
  }
  const rows = scenarios.map((s) => [
    s.title,
    rps(s.plinth.requestsPerSecond),
    ms(s.plinth.latencyMs.p50),
    ms(s.plinth.latencyMs.p99),
    ...(s.floor
      ? [rps(s.floor.requestsPerSecond), ms(s.floor.latencyMs.p50), ms(s.floor.latencyMs.p99)]
      : [NONE, NONE, NONE]),
    ratioCell(s.ratio, s.target),
    s.minimal ? rps(s.minimal.requestsPerSecond) : NONE,
    ratioCell(s.minimalRatio, s.minimalTarget),
    result(s) + (s.noisy ? ' *' : ''),
  ])
  out.push(
    ...table(
      [
        'scenario',
        'Plinth req/s',
        'p50 ms',
        'p99 ms',
        'floor req/s',
        'p50 ms',
        'p99 ms',
        'ratio (target)',
        'minimal floor req/s',
        'ratio (target)',
        'result',
      ],
      rows,
    ),
  )
  if (scenarios.some((s) => s.noisy))
    out.push(
      `* other processes used >= ${NOISY_CORES} of a core during a median round: run again on a quiet machine`,
    )
  const answers = (run) => `${JSON.stringify(run.statusCodes)} errors ${run.errors}`
  for (const s of scenarios.filter((s) => !s.clean))
    out.push(`  ${s.title}: Plinth ${answers(s.plinth)}${s.floor ? `; floor ${answers(s.floor)}` : ''}`)
  out.push('')
  if (coldStart)
    out.push(
      `Cold start (spawn to first 200 from /api/health): median ${Math.round(coldStart.medianMs)} ms ` +
        `of ${coldStart.samplesMs.map(Math.round).join(', ')} ms, target < ${TARGETS.coldStartMs} ms: ${verdict(coldStart.pass)}; ` +
        `minimal floor ${Math.round(coldStart.minimalFloor.medianMs)} ms (Plinth ${(coldStart.medianMs / coldStart.minimalFloor.medianMs).toFixed(2)}x)`,
    )
  const rssTarget =
    memory.pass === null ? 'reported' : `target < ${TARGETS.rssMb} MB: ${verdict(memory.pass)}`
  out.push(
    `Plinth RSS after the scenarios with a floor: ${megabytes(memory.plinth)}, ` +
      `${rssTarget}; floor ${memory.floor.rssMb.toFixed(0)} MB, minimal floor ${memory.minimalFloor.rssMb.toFixed(0)} MB`,
  )
  if (memory.plinthAtEnd)
    out.push(`Plinth RSS after the Plinth-only scenarios too: ${megabytes(memory.plinthAtEnd)} (reported)`)
  if (!results.responsesMatch.all)
    out.push(`WARNING: Plinth and the floor answered differently: ${JSON.stringify(results.responsesMatch)}`)
  return out.join('\n')
}
