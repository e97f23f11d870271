import type { DataMigrationProgress } from '../backups/index.js'

const BAR_WIDTH = 30
const verbs = { rows: 'copying', relations: 'linking', verify: 'verifying' } as const

function describe({ phase, table, done, total }: DataMigrationProgress): { label: string; counted: string } {
  if (phase === 'verify') return { label: verbs.verify, counted: `${done}/${total} tables` }
  return { label: `${verbs[phase]} ${table}`, counted: `${done}/${total} rows` }
}

/**
 * Shows how a long copy goes: a bar redrawn in place at a terminal; elsewhere a plain line
 * each time a tenth more is done, so a log stays short and readable.
 */
export function progressPrinter(out: NodeJS.WriteStream): {
  report(progress: DataMigrationProgress): void
  end(): void
} {
  let shown = ''
  let shownTenth = -1
  let isBarOpen = false
  return {
    report(progress) {
      const { label, counted } = describe(progress)
      const { done, total } = progress
      if (out.isTTY) {
        if (label !== shown && isBarOpen) out.write('\n')
        const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH)
        out.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${counted}`)
        isBarOpen = true
        shown = label
        return
      }
      if (done === 0 && total > 0) return
      const tenth = total === 0 ? 10 : Math.floor((done / total) * 10)
      if (label === shown && tenth === shownTenth) return
      out.write(progress.phase === 'verify' ? `${label} ${counted}\n` : `${label}: ${counted}\n`)
      shown = label
      shownTenth = tenth
    },
    end() {
      if (isBarOpen) out.write('\n')
      isBarOpen = false
    },
  }
}
