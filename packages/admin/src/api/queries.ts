import { keepPreviousData, queryOptions } from '@tanstack/react-query'
import { api, apiText } from './client'
import { listRecords, type RecordsView } from './records'
import { currentSuperuser } from './session'
import type {
  ApiKey,
  AuditEntry,
  Backup,
  CollectionModel,
  CronEntry,
  DeliveryState,
  Job,
  ListPage,
  LogStats,
  MfaStatus,
  OAuth2Settings,
  Passkey,
  RecordModel,
  RecordSession,
  RequestLog,
  Session,
  Settings,
  Webhook,
  WebhookDelivery,
} from './types'

/**
 * Every query key of the app, in one place: a write invalidates by prefix (for instance
 * `queryKeys.collections` also covers each collection's records).
 */
export const queryKeys = {
  session: ['session'] as const,
  collections: ['collections'] as const,
  records: (collection: string) => ['collections', collection, 'records'] as const,
  oauth2: (collection: string) => ['collections', collection, 'oauth2'] as const,
  webhooks: ['webhooks'] as const,
  jobs: (params: JobParams) => ['jobs', params] as const,
  logs: (params: PageParams) => ['logs', params] as const,
  metrics: ['metrics'] as const,
  sessions: ['account', 'sessions'] as const,
  mfa: ['account', 'mfa'] as const,
  passkeys: ['account', 'passkeys'] as const,
  apiKeys: ['account', 'api-keys'] as const,
}

export interface PageParams {
  page: number
  perPage: number
  sort?: string
  filter?: string
}

export const sessionQuery = () =>
  queryOptions({
    queryKey: queryKeys.session,
    queryFn: currentSuperuser,
    staleTime: Number.POSITIVE_INFINITY,
  })

export const collectionsQuery = () =>
  queryOptions({
    queryKey: queryKeys.collections,
    queryFn: ({ signal }) => api<ListPage<CollectionModel>>('/api/collections', { signal }),
  })

/** Pages of the records view are this long; rows are fetched a page at a time as they scroll in. */
export const RECORDS_PER_PAGE = 100

/**
 * A page of the records view. Only the first page is counted (the table's length and the
 * record count); the others send `skipTotal`. A page stays fresh for a while, since realtime
 * events invalidate what changed.
 */
export const recordsPageQuery = (collection: string, view: RecordsView, page: number) =>
  queryOptions({
    queryKey: [...queryKeys.records(collection), view, page] as const,
    queryFn: ({ signal }) => listRecords(collection, view, page, RECORDS_PER_PAGE, page === 1, signal),
    staleTime: 30_000,
  })

export const oauth2SettingsQuery = (collection: string) =>
  queryOptions({
    queryKey: queryKeys.oauth2(collection),
    queryFn: ({ signal }) =>
      api<OAuth2Settings>(`/api/collections/${encodeURIComponent(collection)}/oauth2-providers`, { signal }),
  })

export const webhooksQuery = () =>
  queryOptions({
    queryKey: queryKeys.webhooks,
    queryFn: ({ signal }) => api<{ items: Webhook[] }>('/api/webhooks', { signal }),
  })

export interface JobParams extends PageParams {
  state?: Job['state']
}

export const jobsQuery = (params: JobParams) =>
  queryOptions({
    queryKey: queryKeys.jobs(params),
    queryFn: ({ signal }) => api<ListPage<Job>>('/api/jobs', { query: { ...params }, signal }),
    placeholderData: keepPreviousData,
  })

export const logsQuery = (params: PageParams) =>
  queryOptions({
    queryKey: queryKeys.logs(params),
    queryFn: ({ signal }) => api<ListPage<RequestLog>>('/api/logs', { query: { ...params }, signal }),
    placeholderData: keepPreviousData,
  })

export const metricsQuery = () =>
  queryOptions({
    queryKey: queryKeys.metrics,
    queryFn: ({ signal }) => apiText('/api/metrics', { signal }),
  })

export const sessionsQuery = () =>
  queryOptions({
    queryKey: queryKeys.sessions,
    queryFn: ({ signal }) => api<ListPage<Session>>('/api/auth/sessions', { signal }),
  })

export const mfaQuery = () =>
  queryOptions({
    queryKey: queryKeys.mfa,
    queryFn: ({ signal }) => api<MfaStatus>('/api/collections/_superusers/mfa', { signal }),
  })

export const passkeysQuery = () =>
  queryOptions({
    queryKey: queryKeys.passkeys,
    queryFn: ({ signal }) => api<ListPage<Passkey>>('/api/collections/_superusers/passkeys', { signal }),
  })

export const apiKeysQuery = () =>
  queryOptions({
    queryKey: queryKeys.apiKeys,
    queryFn: ({ signal }) => api<ListPage<ApiKey>>('/api/auth/api-keys', { signal }),
  })

/** Keys of the users, operations and audit pages; writes there invalidate by these prefixes. */
export const operationKeys = {
  users: (collection: string) => ['users', collection] as const,
  user: (collection: string, id: string) => ['users', collection, 'one', id] as const,
  userSessions: (collection: string, id: string) => ['users', collection, 'sessions', id] as const,
  deliveries: (webhookId: string) => ['webhooks', webhookId, 'deliveries'] as const,
  audit: ['audit'] as const,
  logStats: ['logs', 'stats'] as const,
  crons: ['crons'] as const,
  settings: ['settings'] as const,
  backups: ['backups'] as const,
}

const collectionPath = (collection: string) => `/api/collections/${encodeURIComponent(collection)}`

export const usersQuery = (collection: string, params: PageParams) =>
  queryOptions({
    queryKey: [...operationKeys.users(collection), params] as const,
    queryFn: ({ signal }) =>
      api<ListPage<RecordModel>>(`${collectionPath(collection)}/records`, { query: { ...params }, signal }),
    placeholderData: keepPreviousData,
  })

export const userQuery = (collection: string, id: string) =>
  queryOptions({
    queryKey: operationKeys.user(collection, id),
    queryFn: ({ signal }) =>
      api<RecordModel>(`${collectionPath(collection)}/records/${encodeURIComponent(id)}`, { signal }),
  })

export const userSessionsQuery = (collection: string, id: string) =>
  queryOptions({
    queryKey: operationKeys.userSessions(collection, id),
    queryFn: ({ signal }) =>
      api<ListPage<RecordSession>>(
        `${collectionPath(collection)}/records/${encodeURIComponent(id)}/sessions`,
        {
          signal,
        },
      ),
  })

export const deliveriesQuery = (webhookId: string, params: PageParams & { state?: DeliveryState }) =>
  queryOptions({
    queryKey: [...operationKeys.deliveries(webhookId), params] as const,
    queryFn: ({ signal }) =>
      api<ListPage<WebhookDelivery>>(`/api/webhooks/${encodeURIComponent(webhookId)}/deliveries`, {
        query: { page: params.page, perPage: params.perPage, state: params.state },
        signal,
      }),
    placeholderData: keepPreviousData,
  })

export const auditQuery = (params: { page: number; perPage: number; event?: string; recordId?: string }) =>
  queryOptions({
    queryKey: [...operationKeys.audit, params] as const,
    queryFn: ({ signal }) =>
      api<ListPage<AuditEntry> & { events: string[] }>('/api/audit', { query: { ...params }, signal }),
    placeholderData: keepPreviousData,
  })

export const logStatsQuery = (filter: string | undefined) =>
  queryOptions({
    queryKey: [...operationKeys.logStats, filter] as const,
    queryFn: ({ signal }) =>
      api<LogStats>('/api/logs/stats', { query: { interval: 'minute', filter }, signal }),
    placeholderData: keepPreviousData,
  })

export const cronsQuery = () =>
  queryOptions({
    queryKey: operationKeys.crons,
    queryFn: ({ signal }) => api<CronEntry[]>('/api/crons', { signal }),
  })

export const settingsQuery = () =>
  queryOptions({
    queryKey: operationKeys.settings,
    queryFn: ({ signal }) => api<Settings>('/api/settings', { signal }),
  })

export const backupsQuery = () =>
  queryOptions({
    queryKey: operationKeys.backups,
    queryFn: ({ signal }) => api<Backup[]>('/api/backups', { signal }),
  })
