// Where a server spent its CPU: self time per function and per module, from a
// `node --cpu-prof` profile.
//
//   node profile.js <file.cpuprofile> [top]
//
// Per-request costs are printed by run.js (BENCH_CPU_PROF=1), which knows how many
// requests each server answered; they mean most with one scenario (BENCH_SCENARIOS).
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The package (node_modules/<name>) or Plinth folder (dist/<domain>) a script belongs to. */
function moduleOf(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (packageMatch) return packageMatch[1]
  const plinthMatch = /\/dist\/([^/]+)\//.exec(url)
  if (plinthMatch) return `plinth/${plinthMatch[1]}`
  if (url.startsWith('node:')) return 'node core'
  return url.replace(/^file:\/\//, '')
}

/** Self time per function and module; with `requests`, also the CPU time each request cost. */
export function summarizeProfile(file, { top = 20, requests } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const selfUs = new Map()
  // Idle time is the server waiting for requests (the floor's turn, the gaps between runs).
  const isIdle = (id) => nodes.get(id).callFrame.functionName === '(idle)'
  profile.samples.forEach((id, i) => {
    if (!isIdle(id)) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
  const byFunction = new Map()
  const byModule = new Map()
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame
    const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : ''
    const key = `${functionName || '(anonymous)'} ${where}`.trim()
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
    const module = moduleOf(url, functionName)
    byModule.set(module, (byModule.get(module) ?? 0) + us)
  }
  const ranked = (map) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        percent: Math.round((us / total) * 1000) / 10,
        usPerRequest: requests ? Math.round((us / requests) * 10) / 10 : undefined,
      }))
  return {
    busyMs: Math.round(total / 1000),
    requests,
    usPerRequest: requests ? Math.round((total / requests) * 10) / 10 : undefined,
    modules: ranked(byModule),
    functions: ranked(byFunction),
  }
}

export function formatProfile(summary) {
  const perRequest = (r) =>
    r.usPerRequest === undefined ? '' : `${r.usPerRequest.toFixed(1).padStart(7)} µs/req`
  const rows = (list) =>
    list.map((r) => `  ${r.percent.toFixed(1).padStart(5)} % ${perRequest(r)}  ${r.name}`)
  const cost = summary.requests
    ? `, ${summary.requests.toLocaleString('en-US')} requests, ${summary.usPerRequest} µs of CPU each`
    : ''
  return [
    `${summary.busyMs} ms busy (idle left out)${cost}`,
    'Self time by module:',
    ...rows(summary.modules),
    'Self time by function:',
    ...rows(summary.functions),
  ].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatProfile(summarizeProfile(process.argv[2], { top: Number(process.argv[3] ?? 25) })))
}
