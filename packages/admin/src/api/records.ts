import { api, refreshSession } from './client'
import { ApiError } from './problem'
import type { ListPage, RecordModel } from './types'

/** What a records list is narrowed and ordered by: the API's `filter`, `search` and `sort`. */
export interface RecordsView {
  filter: string
  search: string
  sort: string
}

export const recordsPath = (collection: string, id?: string) =>
  `/api/collections/${encodeURIComponent(collection)}/records${id ? `/${encodeURIComponent(id)}` : ''}`

/** One page of records; `withTotal` false sends `skipTotal`, which spares the server a count. */
export function listRecords(
  collection: string,
  view: RecordsView,
  page: number,
  perPage: number,
  withTotal: boolean,
  signal?: AbortSignal,
): Promise<ListPage<RecordModel>> {
  return api<ListPage<RecordModel>>(recordsPath(collection), {
    query: {
      page,
      perPage,
      sort: view.sort,
      filter: view.filter.trim(),
      search: view.search.trim(),
      skipTotal: withTotal ? undefined : true,
    },
    signal,
  })
}

/** Every record of a view, a page of 1,000 at a time, without counting. */
export async function* allRecords(collection: string, view: RecordsView): AsyncGenerator<RecordModel[]> {
  const perPage = 1000
  for (let page = 1; ; page++) {
    const list = await listRecords(collection, view, page, perPage, false)
    if (list.items.length > 0) yield list.items
    if (list.items.length < perPage) return
  }
}

export interface BatchRequest {
  method: 'POST' | 'PATCH' | 'DELETE'
  url: string
  body?: Record<string, unknown>
}

/** The most requests `POST /api/batch` takes at once. */
export const BATCH_LIMIT = 100

/** Sends requests through `POST /api/batch`, all or nothing; a failure throws the server's problem. */
export function batch(requests: BatchRequest[]): Promise<{ status: number; body: unknown }[]> {
  return api('/api/batch', { method: 'POST', body: { requests } })
}

/** Deletes records by id, a batch of {@link BATCH_LIMIT} at a time. */
export async function deleteRecords(collection: string, ids: string[]): Promise<void> {
  for (let at = 0; at < ids.length; at += BATCH_LIMIT)
    await batch(
      ids.slice(at, at + BATCH_LIMIT).map((id) => ({ method: 'DELETE', url: recordsPath(collection, id) })),
    )
}

export interface FileChanges {
  /** New files per file field, appended (`field+`) on update. */
  added: Record<string, File[]>
  /** Names of stored files to remove per file field (`field-`). */
  removed: Record<string, string[]>
}

/**
 * Creates or updates a record. With files it goes as `multipart/form-data` (docs/files.md):
 * the other values in an `@jsonPayload` part, new files under `field` on create and `field+` on
 * update, and removals as `field-`; without files it is plain JSON.
 */
export function saveRecord(
  collection: string,
  id: string | undefined,
  values: Record<string, unknown>,
  files: FileChanges = { added: {}, removed: {} },
): Promise<RecordModel> {
  const method = id ? 'PATCH' : 'POST'
  const hasFiles =
    Object.values(files.added).some((list) => list.length > 0) ||
    Object.values(files.removed).some((list) => list.length > 0)
  if (!hasFiles) return api<RecordModel>(recordsPath(collection, id), { method, body: values })
  const form = new FormData()
  form.set('@jsonPayload', JSON.stringify(values))
  for (const [field, list] of Object.entries(files.added))
    for (const file of list) form.append(id ? `${field}+` : field, file)
  for (const [field, names] of Object.entries(files.removed))
    for (const name of names) form.append(`${field}-`, name)
  return api<RecordModel>(recordsPath(collection, id), { method, body: form })
}

export const fileUrl = (collection: string, id: string, name: string, thumb?: string) =>
  `/api/files/${encodeURIComponent(collection)}/${encodeURIComponent(id)}/${encodeURIComponent(name)}${
    thumb ? `?thumb=${thumb}` : ''
  }`

export type RealtimeAction = 'create' | 'update' | 'delete'

/** Longest wait between two attempts to open the stream again. */
const MAX_RECONNECT_DELAY_MS = 30_000

/**
 * Listens to every change of a collection's records (`GET /api/realtime` and a `<collection>/*`
 * subscription, docs/events.md). The stream and the subscription are authorised by the
 * cookie-mode cookies, the subscription's `POST` also by the CSRF header like any write.
 *
 * When the server ends the stream (its access token expired, a shutdown) the browser opens
 * it again by itself, resuming from the last event, and the subscription's `POST` refreshes
 * the session on its 401. A stream the server refuses, though, the browser gives up on: that
 * one is opened anew after a refresh, with a growing pause between failed attempts, and
 * `onResync` is called once it is back, since changes made in between were not sent.
 * Returns the function that closes the stream.
 */
export function subscribeToRecords(
  collection: string,
  onChange: (action: RealtimeAction, record: RecordModel) => void,
  onResync: () => void,
): () => void {
  const topic = `${collection}/*`
  let source: EventSource | null = null
  let isClosed = false
  let failures = 0
  let hasBeenOpen = false
  let retry: ReturnType<typeof setTimeout> | undefined

  const reopen = () => {
    source?.close()
    if (isClosed || retry) return
    const delay = Math.min(MAX_RECONNECT_DELAY_MS, 500 * 2 ** failures++)
    retry = setTimeout(async () => {
      retry = undefined
      // A failed refresh means the session is over; the next request sends the app to sign-in.
      if (!(await refreshSession())) return
      if (!isClosed) open()
    }, delay)
  }

  const open = () => {
    const stream = new EventSource('/api/realtime')
    source = stream
    stream.addEventListener('PB_CONNECT', (event) => {
      const { clientId } = JSON.parse((event as MessageEvent<string>).data) as { clientId: string }
      api('/api/realtime', { method: 'POST', body: { clientId, subscriptions: [topic] } }).then(
        () => {
          failures = 0
          if (hasBeenOpen) onResync()
          hasBeenOpen = true
        },
        (error: unknown) => {
          // A closed page's subscription may race its stream's end; nothing is left to tell then.
          if (!(error instanceof ApiError && error.status === 404))
            console.warn('realtime subscription failed', error)
        },
      )
    })
    stream.addEventListener(topic, (event) => {
      const { action, record } = JSON.parse((event as MessageEvent<string>).data) as {
        action: RealtimeAction
        record: RecordModel
      }
      onChange(action, record)
    })
    // A stream the server refused (a proxy's 502 during a deploy, a 401 for a token the
    // server saw expire first) is one the browser never tries again by itself.
    stream.addEventListener('error', () => {
      if (stream.readyState === EventSource.CLOSED) reopen()
    })
  }

  open()
  return () => {
    isClosed = true
    clearTimeout(retry)
    source?.close()
  }
}
