import { useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { describeError } from '../api/problem'
import { queryKeys } from '../api/queries'
import type { RecordsView } from '../api/records'
import type { CollectionModel } from '../api/types'
import { exportRecords, importRecords, type Rejection, readImport } from './records-transfer'

function rejectedRows(rejections: Rejection[]): string {
  const count = new Set(rejections.map((r) => r.row)).size
  return count === 1 ? '1 row was' : `${count} rows were`
}

/** Import of a CSV or JSON file, with a progress bar and the rows the server refused. */
export function ImportPanel({ collection }: { collection: CollectionModel }) {
  const queryClient = useQueryClient()
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null)
  const [rejections, setRejections] = useState<Rejection[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = async (file: File) => {
    setError(null)
    setRejections(null)
    try {
      const records = readImport(collection, file.name, await file.text())
      setProgress({ done: 0, total: records.length })
      const refused = await importRecords(collection.name, records, (done) =>
        setProgress({ done, total: records.length }),
      )
      setRejections(refused)
    } catch (failure) {
      setError(describeError(failure))
    } finally {
      await queryClient.invalidateQueries({ queryKey: queryKeys.records(collection.name) })
    }
  }
  const busy = progress !== null && progress.done < progress.total && rejections === null && error === null
  return (
    <section className="records-io records-import" aria-label="Import">
      <label>
        Import CSV or JSON
        <input
          type="file"
          accept=".csv,.json,text/csv,application/json"
          disabled={busy}
          onChange={(event) => {
            const file = event.target.files?.[0]
            event.target.value = ''
            if (file) void run(file)
          }}
        />
      </label>
      {progress && (
        <p>
          <progress aria-label="Import progress" max={progress.total || 1} value={progress.done} />{' '}
          {`${progress.done} of ${progress.total} rows sent`}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {rejections && (
        <div role="status">
          <p>
            {rejections.length === 0
              ? 'Every row was imported.'
              : `${rejectedRows(rejections)} rejected; the others were imported.`}
          </p>
          {rejections.length > 0 && (
            <table>
              <caption>Rejected rows</caption>
              <thead>
                <tr>
                  <th scope="col">row</th>
                  <th scope="col">field</th>
                  <th scope="col">message</th>
                </tr>
              </thead>
              <tbody>
                {rejections.map((rejection) => (
                  <tr key={`${rejection.row}:${rejection.field}`}>
                    <td>{rejection.row}</td>
                    <td>{rejection.field || '–'}</td>
                    <td>{rejection.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </section>
  )
}

/** Export of the records the current filter and search select, as CSV or JSON. */
export function ExportPanel({ collection, view }: { collection: CollectionModel; view: RecordsView }) {
  const [done, setDone] = useState<number | null>(null)
  const [error, setError] = useState<string | null>(null)
  const run = async (format: 'csv' | 'json') => {
    setError(null)
    setDone(0)
    try {
      const blob = await exportRecords(collection, view, format, setDone)
      const link = document.createElement('a')
      link.href = URL.createObjectURL(blob)
      link.download = `${collection.name}.${format}`
      link.click()
      URL.revokeObjectURL(link.href)
    } catch (failure) {
      setError(describeError(failure))
    }
  }
  return (
    <section className="records-io" aria-label="Export">
      <button type="button" onClick={() => void run('csv')}>
        Export CSV
      </button>
      <button type="button" onClick={() => void run('json')}>
        Export JSON
      </button>
      {done !== null && <span role="status">{`${done} records exported`}</span>}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  )
}
