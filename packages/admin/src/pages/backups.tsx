import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { api } from '../api/client'
import { backupsQuery, operationKeys } from '../api/queries'
import type { Backup } from '../api/types'
import { DataTable, When } from '../components/data-table'
import { FormError } from '../components/form'
import { PageHeader, QueryView } from '../components/query-view'
import { Empty } from '../components/status'

const path = (name: string) => `/api/backups/${encodeURIComponent(name)}`

function size(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** Backups of the app: make one, download, upload, delete, and restore one after typing its name. */
export function BackupsPage() {
  const queryClient = useQueryClient()
  const backups = useQuery(backupsQuery())
  const done = () => queryClient.invalidateQueries({ queryKey: operationKeys.backups })
  const create = useMutation({
    mutationFn: () => api<Backup>('/api/backups', { method: 'POST' }),
    onSuccess: done,
  })
  const upload = useMutation({
    mutationFn: (file: File) => {
      const body = new FormData()
      body.append('file', file)
      return api<Backup>('/api/backups/upload', { method: 'POST', body })
    },
    onSuccess: done,
  })
  const [restoring, setRestoring] = useState<string | null>(null)
  return (
    <>
      <PageHeader title="Backups">
        <button type="button" className="primary" disabled={create.isPending} onClick={() => create.mutate()}>
          {create.isPending ? 'Making a backup…' : 'Make a backup'}
        </button>
      </PageHeader>
      <FormError error={create.error} />
      <form
        className="toolbar"
        aria-label="Upload a backup"
        onSubmit={(event) => {
          event.preventDefault()
          const file = new FormData(event.currentTarget).get('file')
          if (file instanceof File && file.size > 0) upload.mutate(file)
        }}
      >
        <div className="field">
          <label htmlFor="backup-file">Backup archive</label>
          <input id="backup-file" name="file" type="file" accept=".tar.gz,application/gzip" required />
        </div>
        <button type="submit" disabled={upload.isPending}>
          Upload
        </button>
      </form>
      <FormError error={upload.error} />
      <QueryView query={backups} what="backups">
        {(items) =>
          items.length === 0 ? (
            <Empty>No backups yet.</Empty>
          ) : (
            <DataTable<Backup & { id: string }>
              caption="Backups"
              rows={items.map((backup) => ({ ...backup, id: backup.name }))}
              columns={[
                { header: 'Name', cell: (b) => <code>{b.name}</code> },
                { header: 'Size', cell: (b) => size(b.size) },
                { header: 'Made', cell: (b) => <When iso={b.created} /> },
                {
                  header: 'Actions',
                  cell: (b) => <BackupActions backup={b} onRestore={() => setRestoring(b.name)} />,
                },
              ]}
            />
          )
        }
      </QueryView>
      {restoring && <Restore name={restoring} onCancel={() => setRestoring(null)} />}
    </>
  )
}

function BackupActions({ backup, onRestore }: { backup: Backup; onRestore: () => void }) {
  const queryClient = useQueryClient()
  // A link sends no Authorization header, so the download carries a short-lived file token.
  const download = useMutation({
    mutationFn: () => api<{ token: string }>('/api/files/token', { method: 'POST' }),
    onSuccess: ({ token }) => {
      const link = document.createElement('a')
      link.href = `${path(backup.name)}?token=${encodeURIComponent(token)}`
      link.download = backup.name
      link.click()
    },
  })
  const remove = useMutation({
    mutationFn: () => api(path(backup.name), { method: 'DELETE' }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: operationKeys.backups }),
  })
  return (
    <div className="row-actions">
      <button type="button" aria-label={`Download ${backup.name}`} onClick={() => download.mutate()}>
        Download
      </button>
      <button type="button" aria-label={`Restore ${backup.name}`} onClick={onRestore}>
        Restore
      </button>
      <button
        type="button"
        aria-label={`Delete ${backup.name}`}
        onClick={() => {
          if (window.confirm(`Delete the backup ${backup.name}?`)) remove.mutate()
        }}
      >
        Delete
      </button>
      <FormError error={download.error ?? remove.error} />
    </div>
  )
}

/** Restoring replaces every record, file and session: it asks for the backup's name typed out. */
function Restore({ name, onCancel }: { name: string; onCancel: () => void }) {
  const [typed, setTyped] = useState('')
  const [isBack, setBack] = useState(false)
  const restore = useMutation({
    mutationFn: () => api(`${path(name)}/restore`, { method: 'POST' }),
    onSuccess: async () => {
      // The server restarts on the restored data; it is back when readiness answers 200.
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 1000))
        const ready = await fetch('/api/health/ready').catch(() => null)
        if (ready?.ok) break
      }
      setBack(true)
    },
  })
  return (
    <section className="panel" aria-labelledby="restore-heading">
      <h2 id="restore-heading">Restore {name}</h2>
      {isBack ? (
        <p role="status">Restored: the server runs on the data of {name}. Reload to see it.</p>
      ) : (
        <form
          aria-label="Restore a backup"
          onSubmit={(event) => {
            event.preventDefault()
            if (typed === name) restore.mutate()
          }}
        >
          <p>
            Every record, file, setting and session becomes what it was in this backup; whatever changed since
            is lost. The server restarts, refusing requests for a moment.
          </p>
          <div className="field">
            <label htmlFor="restore-name">Type the backup's name to confirm</label>
            <input
              id="restore-name"
              value={typed}
              autoComplete="off"
              onChange={(e) => setTyped(e.target.value)}
            />
          </div>
          <FormError error={restore.error} />
          {restore.isPending && <p role="status">Restoring; waiting for the server to come back…</p>}
          <div className="row-actions">
            <button type="submit" className="danger" disabled={typed !== name || restore.isPending}>
              Replace all data with this backup
            </button>
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  )
}
