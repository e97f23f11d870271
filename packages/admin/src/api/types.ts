/** Shapes of the public API's answers that the app reads (GET /api/openapi.json has them all). */

export interface ListPage<T> {
  items: T[]
  page: number
  perPage: number
  totalItems: number
  totalPages: number
}

export type RecordModel = { id: string; created: string; updated: string } & Record<string, unknown>

export interface FieldDefinition {
  id?: string
  name: string
  type: string
  required?: boolean
  hidden?: boolean
  system?: boolean
  /** The type's options (docs/collections.md): `collection` of a relation, `maxSelect`, `min`, … */
  [option: string]: unknown
}

export interface IndexDefinition {
  id?: string
  fields: string[]
  unique?: boolean
}

export interface SearchOptions {
  fields: string[]
  language?: string
  fuzzy?: boolean
}

export interface CollectionModel {
  id: string
  name: string
  type: 'base' | 'auth' | 'view'
  system?: boolean
  fields: FieldDefinition[]
  listRule: string | null
  viewRule: string | null
  createRule: string | null
  updateRule: string | null
  deleteRule: string | null
  indexes?: IndexDefinition[]
  search?: SearchOptions | null
  viewQuery?: string
  options?: Record<string, unknown>
  updated: string
}

export interface Webhook {
  id: string
  url: string
  collections: string[]
  actions: string[]
  filter: string | null
  /** Paused by hand: deliveries wait in the log and none is sent until it is resumed. */
  paused: boolean
  circuit: { state: 'closed' | 'open' | 'half-open'; failures: number; pausedUntil: string | null }
  created: string
}

export interface Job {
  id: string
  name: string
  queue: string
  state: 'queued' | 'running' | 'succeeded' | 'failed' | 'dead'
  attempts: number
  maxAttempts: number
  runAt: string
  lastError: string | null
  created: string
}

export interface RequestLog {
  id: string
  created: string
  method: string
  url: string
  status: number
  duration: number
  ip: string
  requestId: string
}

export interface Session {
  id: string
  created: string
  lastUsed: string
  expires: string
  userAgent: string | null
  ip: string | null
  current: boolean
}

export interface MfaStatus {
  required: boolean
  enrollmentRequired: boolean
  totp: boolean
  recoveryCodesLeft: number
  passkeys: number
}

export type RecordOperation = 'list' | 'view' | 'create' | 'update' | 'delete'

/** A collection (or `*`, every one) and what an API key may do there. */
export interface ApiKeyScope {
  collection: string
  operations: RecordOperation[]
}

/** An API key as its owner lists it; the key itself is only in the answer that made it. */
export interface ApiKey {
  id: string
  name: string
  prefix: string
  scopes: ApiKeyScope[]
  expires: string
  created: string
  lastUsed: string | null
}

/** A provider Plinth knows by name, with its defaults (`oidc` is the generic one). */
export interface KnownProvider {
  name: string
  displayName: string
  kind: 'oidc' | 'oauth2'
  issuer: string | null
  isIssuerConfigurable: boolean
  scopes: string[]
}

/** GET|PUT /api/collections/{c}/oauth2-providers: client secrets only as `clientSecretSet`. */
export interface OAuth2Settings {
  enabled: boolean
  providers: {
    name: string
    clientId: string
    clientSecretSet: boolean
    issuer: string | null
    displayName: string | null
    scopes: string[] | null
    redirectURLs: string[]
  }[]
  updated: string | null
  known: KnownProvider[]
}

export interface Passkey {
  id: string
  name: string
  created: string
  lastUsed: string | null
}

/** A TOTP secret waiting for its first code; `otpauthURL` is what an authenticator app scans. */
export interface TotpSetup {
  secret: string
  otpauthURL: string
}

export type DeliveryState = 'pending' | 'sending' | 'failed' | 'succeeded' | 'dead'

export interface WebhookDelivery {
  id: string
  webhookId: string
  eventId: string
  type: 'record.created' | 'record.updated' | 'record.deleted'
  collection: string
  recordId: string
  state: DeliveryState
  attempts: number
  nextAttempt: string | null
  responseStatus: number | null
  durationMs: number | null
  lastError: string | null
  created: string
  updated: string
  finished: string | null
}

/** A session of any auth record, as a superuser sees it. */
export interface RecordSession {
  id: string
  created: string
  lastUsed: string
  expires: string
  userAgent: string | null
  ip: string | null
  impersonated: boolean
  impersonatedBy: string | null
}

export interface AuditEntry {
  id: string
  at: string
  event: string
  collectionId: string | null
  recordId: string | null
  actor: string | null
  ip: string | null
  detail: Record<string, unknown>
}

export interface LogStats {
  interval: 'minute' | 'hour'
  items: { time: string; requests: number; rows: number; serverErrors: number }[]
}

export interface CronEntry {
  id: string
  expression: string
  timezone: string
  job: string
  nextRun: string | null
  lastRun: string | null
  lastJob: Pick<Job, 'id' | 'state' | 'lastError'> | null
}

/** GET /api/settings: groups of settings; a secret is only `{ isSet }`. */
export type Settings = Record<string, unknown>

export interface Backup {
  name: string
  size: number
  created: string
}
