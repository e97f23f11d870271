import type { CollectionType } from '../collections/index.js'

/** Something of the source that did not carry over as it was, and why. */
export interface ImportNote {
  /** What it concerns: `posts.deleteRule`, `posts index idx_slug`, `users.avatar`, … */
  subject: string
  problem: string
}

export interface CollectionCount {
  name: string
  type: CollectionType
  records: number
  files: number
}

/** What an import did, or would do (`dryRun`). */
export interface ImportReport {
  source: string
  target: string
  dryRun: boolean
  collections: CollectionCount[]
  superusers: { imported: number; kept: number }
  notes: ImportNote[]
}

const plural = (count: number, one: string) => `${count} ${one}${count === 1 ? '' : 's'}`

/** The report as the command prints it: counts per collection, then every note. */
export function formatReport(report: ImportReport): string {
  const width = Math.max(10, ...report.collections.map((c) => c.name.length))
  const lines = [
    report.dryRun
      ? `Dry run: nothing was written. Importing ${report.source} into ${report.target} would give:`
      : `Imported ${report.source} into ${report.target}:`,
    '',
    'Collections',
    ...report.collections.map(
      (c) =>
        `  ${c.name.padEnd(width)}  ${c.type.padEnd(4)}  ${
          c.type === 'view'
            ? '(records come from its query)'
            : `${plural(c.records, 'record')}, ${plural(c.files, 'file')}`
        }`,
    ),
    `Superusers: ${report.superusers.imported} imported${
      report.superusers.kept > 0 ? `, ${report.superusers.kept} already in Plinth (kept as they were)` : ''
    }`,
    '',
  ]
  if (report.notes.length === 0) lines.push('Everything was translated.')
  else {
    lines.push(`Not translated as it was (${report.notes.length}):`)
    for (const note of report.notes) lines.push(`  ${note.subject}: ${note.problem}`)
  }
  return `${lines.join('\n')}\n`
}
