import { useId } from 'react'

/** The answer of `?dryRun=1` on a collection change or an import (docs/collections.md). */
export interface MigrationPreview {
  dryRun: boolean
  changes: {
    kind: 'create' | 'update' | 'delete' | 'untracked'
    name: string
    previousName?: string
    details: string[]
  }[]
  statements: { sql: string; parameters: unknown[] }[]
}

const kindWords: Record<MigrationPreview['changes'][number]['kind'], string> = {
  create: 'Create',
  update: 'Change',
  delete: 'Delete',
  untracked: 'Not in the file (kept)',
}

/** What a change would do, in words and in SQL, as the server worked it out without making it. */
export function MigrationPreviewView({ preview, title }: { preview: MigrationPreview; title: string }) {
  const id = useId()
  return (
    <section aria-labelledby={id} className="migration-preview">
      <h2 id={id}>{title}</h2>
      {preview.changes.length === 0 ? (
        <p>Nothing would change.</p>
      ) : (
        <ul>
          {preview.changes.map((change) => (
            <li key={`${change.kind} ${change.name}`}>
              {kindWords[change.kind]} <strong>{change.name}</strong>
              {change.previousName && ` (was ${change.previousName})`}
              {change.details.length > 0 && (
                <ul>
                  {change.details.map((detail) => (
                    <li key={detail}>
                      <code>{detail}</code>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
      {preview.statements.length > 0 && (
        <details>
          <summary>SQL of the migration ({preview.statements.length} statements)</summary>
          <pre className="sql">{preview.statements.map((statement) => `${statement.sql};`).join('\n\n')}</pre>
        </details>
      )}
    </section>
  )
}
