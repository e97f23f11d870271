import { readFileSync } from 'node:fs'
import { cpus, release, totalmem } from 'node:os'

function cpuModel() {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8')
    return /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown'
  } catch {
    return cpus()[0]?.model ?? 'unknown'
  }
}

/** What the numbers were measured on: without it they cannot be compared with another run. */
export function describeMachine() {
  return {
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: `${process.platform} ${release()}`,
  }
}

/** The 1, 5 and 15 minute load averages: a busy machine makes every number here worse. */
export function loadAverage() {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number)
  } catch {
    return null
  }
}
