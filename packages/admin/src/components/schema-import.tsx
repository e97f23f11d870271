import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useId, useState } from 'react'
import { api } from '../api/client'
import { queryKeys } from '../api/queries'
import { FormError } from './form'
import { type MigrationPreview, MigrationPreviewView } from './migration-preview'

interface ImportBody {
  collections: unknown[]
  deleteMissing: boolean
}

/** The collections of a file: an exported `{"collections": [...]}` or a bare list of definitions. */
function collectionsOf(text: string): unknown[] {
  const parsed: unknown = JSON.parse(text)
  if (Array.isArray(parsed)) return parsed
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    Array.isArray((parsed as { collections?: unknown }).collections)
  )
    return (parsed as { collections: unknown[] }).collections
  throw new Error('The file holds no list of collections: export one with Export schema.')
}

/**
 * Import a schema file with PUT /api/collections/import: first as a dry run, whose plan is shown,
 * then for real, as one migration that applies all of it or nothing.
 */
export function SchemaImport() {
  const id = useId()
  const queryClient = useQueryClient()
  const [body, setBody] = useState<ImportBody>()
  const [readError, setReadError] = useState<unknown>()
  const [done, setDone] = useState('')

  const run = useMutation({
    mutationFn: ({ dryRun, ...next }: ImportBody & { dryRun: boolean }) =>
      api<MigrationPreview>('/api/collections/import', {
        method: 'PUT',
        body: next,
        ...(dryRun ? { query: { dryRun: '1' } } : {}),
      }),
    onSuccess: async (result) => {
      if (result.dryRun) return
      setBody(undefined)
      setDone(`Imported: ${result.changes.length} collections changed.`)
      await queryClient.invalidateQueries({ queryKey: queryKeys.collections })
    },
  })

  const preview = (next: ImportBody) => {
    setBody(next)
    setDone('')
    run.mutate({ ...next, dryRun: true })
  }

  const read = async (file: File | undefined) => {
    setReadError(undefined)
    if (!file) return
    try {
      preview({ collections: collectionsOf(await file.text()), deleteMissing: body?.deleteMissing ?? false })
    } catch (error) {
      setBody(undefined)
      setReadError(error instanceof SyntaxError ? new Error(`The file is not JSON: ${error.message}`) : error)
    }
  }

  const planned = run.data?.dryRun ? run.data : undefined
  return (
    <section aria-labelledby={`${id}-heading`} className="schema-import">
      <h2 id={`${id}-heading`}>Import a schema</h2>
      <div className="field">
        <label htmlFor={`${id}-file`}>Schema file (JSON)</label>
        <input
          id={`${id}-file`}
          type="file"
          accept="application/json,.json"
          onChange={(e) => void read(e.target.files?.[0])}
        />
      </div>
      <label className="check">
        <input
          type="checkbox"
          checked={body?.deleteMissing ?? false}
          disabled={!body}
          onChange={(event) => body && preview({ ...body, deleteMissing: event.target.checked })}
        />{' '}
        Delete collections that are not in the file
      </label>
      <FormError error={readError ?? run.error} />
      {planned && body && (
        <>
          <MigrationPreviewView preview={planned} title="What the import would do" />
          <button
            type="button"
            className="primary"
            disabled={run.isPending}
            onClick={() => run.mutate({ ...body, dryRun: false })}
          >
            Apply the import
          </button>
        </>
      )}
      <p role="status">{done}</p>
    </section>
  )
}
