import pino, { type Logger } from 'pino'
import {
  type AuthServices,
  createAuthServices,
  createSetupLink,
  endSessionsOnNewPassword,
  forgetAuthCollection,
} from '../auth/index.js'
import { scheduleBackups } from '../backups/index.js'
import { openCacheStore, ReadCache } from '../cache/index.js'
import { noticedNumber, noticeSender, openSharedState, type SharedState } from '../cluster/index.js'
import { CollectionRegistry, CollectionService } from '../collections/index.js'
import { ConfigError, type PlinthConfig } from '../config/index.js'
import { loadInstanceSecret, SecretBox } from '../crypto/index.js'
import {
  type Dialect,
  openDatabase,
  openReadReplicas,
  type ReadReplicas,
  runSystemMigrations,
} from '../db/index.js'
import {
  addBrokers,
  type Brokers,
  createWebhooks,
  EventDispatcher,
  eventJobs,
  outboxListener,
  type Webhooks,
} from '../events/index.js'
import {
  type ExtensionServices,
  type JobContext,
  loadConfigFile,
  type PlinthProjectConfig,
} from '../extensions/index.js'
import { FileService, openFileStorage } from '../files/index.js'
import { pruneIdempotencyKeys } from '../idempotency/index.js'
import { superuser } from '../identity/index.js'
import { type JobInfo, JobQueue } from '../jobs/index.js'
import { RequestLogStore, RequestLogWriter } from '../logs/index.js'
import { createMailer, type Mailer, queueMail } from '../mail/index.js'
import { Metrics } from '../metrics/index.js'
import { RealtimeHub } from '../realtime/index.js'
import { CallerRecords, ReadRouting, RecordService } from '../records/index.js'
import { checkRules } from '../rules/index.js'
import { startTracing, type Tracing } from '../telemetry/index.js'
import { instrumentCore } from './instance-metrics.js'
import { loggerOptions } from './logging.js'
import { systemMigrations } from './system-migrations.js'

/**
 * Plinth without a transport: the database, the collections, the records with
 * every listener and hook, auth and mail. The HTTP app, the CLI and background
 * work all take the same core, so a write made from the shell runs exactly what
 * one made over HTTP runs.
 */
export interface Core {
  readonly config: PlinthConfig
  readonly log: Logger
  readonly dialect: Dialect
  /** Counters and messages every node of the deployment shares. */
  readonly state: SharedState
  /** Where record lists and views read: the read replicas, or the primary for callers who just wrote. */
  readonly reads: ReadRouting
  /** Answers of record lists and views, until a write makes them stale. */
  readonly readCache: ReadCache
  readonly registry: CollectionRegistry
  readonly collections: CollectionService
  readonly records: RecordService
  readonly auth: AuthServices
  /** Mail goes through the job queue, so a failed send is retried. */
  readonly mailer: Mailer
  /** Durable jobs and cron; the HTTP app starts the worker, one-off commands only enqueue. */
  readonly jobs: JobQueue<Omit<JobContext, keyof JobInfo>>
  /** Hands the outbox's events to realtime, webhooks, brokers and event jobs; the HTTP app starts it. */
  readonly events: EventDispatcher
  /** Event publishers and message consumers of the configured brokers; the HTTP app starts them. */
  readonly brokers: Brokers
  /** Realtime clients and their subscriptions; the HTTP app starts it and binds its transports. */
  readonly realtime: RealtimeHub
  /** Endpoints fed by the outbox, and the worker that sends their deliveries; the HTTP app starts it. */
  readonly webhooks: Webhooks
  /** Files of records: uploads, storage, cleanup. */
  readonly files: FileService
  /** This instance's metrics, served at /api/metrics; other parts add their own series. */
  readonly metrics: Metrics
  /** OpenTelemetry traces, or null when no OTLP endpoint is configured (the SDK is then never loaded). */
  readonly tracing: Tracing | null
  /** Requests kept in the database: the writer the HTTP app hands them to (null when off), and their store. */
  readonly requestLogs: { writer: RequestLogWriter | null; store: RequestLogStore }
  /** The instance secret's box, for values kept encrypted in the database. */
  readonly box: SecretBox
  readonly instanceSecret: string
  /** The project's hooks and routes (empty without a plinth.config.ts). */
  readonly project: PlinthProjectConfig
  /** Stops background work and closes the database. */
  close(): Promise<void>
}

/**
 * How often each node asks whether the collections changed elsewhere. Nodes tell each other
 * at once; the poll catches what no message carries: the CLI, and a message lost in an outage.
 */
const SCHEMA_POLL_MS = 500
const DAY_MS = 24 * 60 * 60 * 1000
const PRUNE_EVENTS_JOB = 'plinth.events.prune'
const PRUNE_REQUEST_LOGS_JOB = 'plinth.logs.prune'
/** Least time between two notices of new events from one node. */
const NOTICE_INTERVAL_MS = 10

/**
 * Opens the database, brings Plinth's own tables up to date and loads the collections: what a
 * tool that copies a whole database needs, without the services that act on records.
 */
export async function openPlinthDatabase(config: PlinthConfig, log: Logger) {
  const dialect = await openDatabase(config)
  const registry = new CollectionRegistry()
  const collections = new CollectionService(dialect, registry, checkRules(dialect), log)
  collections.onDrop(forgetAuthCollection)
  try {
    await runSystemMigrations(dialect, systemMigrations())
    await collections.load()
  } catch (error) {
    await dialect.close()
    throw error
  }
  return { dialect, registry, collections }
}

/**
 * Builds the core of a Plinth instance. Two cores in one process share nothing.
 *
 * @example
 * const core = await createCore(loadConfig(process.env))
 * await core.records.create(superuser, 'posts', { title: 'Hello' })
 * await core.close()
 */
export async function createCore(config: PlinthConfig): Promise<Core> {
  const log = await createLogger(config)
  // Refused before anything opens: replicas stream from a PostgreSQL primary, and SQLite has none.
  if (config.cluster.replicaUrls.length > 0 && !config.databaseUrl)
    throw new ConfigError(
      'PLINTH_DATABASE_REPLICA_URLS',
      'read replicas need PostgreSQL: set PLINTH_DATABASE_URL too',
    )
  const { dialect, registry, collections } = await openPlinthDatabase(config, log)
  const state = await openSharedState(config.cluster, dialect, log)
  let tracing: Tracing | null = null
  let replicas: ReadReplicas | null = null
  try {
    tracing = await startTracing(config.traces, config.nodeId)
    if (tracing) traceQueries(dialect, tracing)
    const instanceSecret = loadInstanceSecret(config.secret, config.dataDir)
    const box = new SecretBox(instanceSecret)
    const metrics = new Metrics({ nodeId: config.nodeId, cacheMs: config.metrics.cacheMs, log })
    const requestLogs = {
      writer:
        config.requestLogs.retentionDays === 0
          ? null
          : new RequestLogWriter(dialect, {
              nodeId: config.nodeId,
              maxPerSecond: config.requestLogs.maxPerSecond,
              dropped: metrics.counter(
                'plinth_request_logs_dropped_total',
                'Request log rows dropped: the database refused them, or too many waited to be written.',
              ),
              log,
            }),
      store: new RequestLogStore(dialect),
    }
    if (config.cluster.replicaUrls.length > 0)
      replicas = await openReadReplicas(dialect, config.cluster.replicaUrls, config)
    const reads = new ReadRouting(dialect.db, replicas, config.cluster.replicaStickyMs, {
      shared: state.kind === 'process' ? null : state,
    })
    const records = new RecordService(dialect, registry, { log })
    records.onChange(outboxListener(dialect))
    const events = new EventDispatcher(dialect, {
      pollInterval: config.events.pollIntervalMs,
      retention: config.events.retentionDays * DAY_MS,
      leaseMs: config.events.leaseMs,
      log,
    })
    records.onCommit((newestEvent) => events.wake(newestEvent))
    // Other nodes hear of a commit at once instead of at their next poll of the outbox.
    records.onCommit(noticeSender(state, 'events', NOTICE_INTERVAL_MS))
    const cacheLookups = metrics.counter('plinth_cache_lookups_total', 'Lookups of the read cache.', [
      'result',
    ])
    const readCache = new ReadCache(
      {
        db: dialect.db,
        registry,
        store: await openCacheStore(config.cluster, config.cache.maxBytes),
        schemaVersion: () => collections.version,
        onLookup: (hit) => cacheLookups.inc({ result: hit ? 'hit' : 'miss' }),
      },
      config.cache,
    )
    await readCache.start()
    records.onCommit((newestEvent) => readCache.invalidate(newestEvent))
    events.add(readCache.consumer)
    state.subscribe('events', (message) => {
      // The number is what the cache needs of another node's commit; reading is for the consumers that want events.
      const settled = noticedNumber(message)
      if (settled !== undefined) readCache.settle(settled)
      events.wake()
    })
    const webhooks = createWebhooks(dialect, registry, box, config.webhooks, {
      pollInterval: config.events.pollIntervalMs,
      retention: config.events.retentionDays * DAY_MS,
      log,
      metrics,
    })
    events.add(webhooks.service.consumer())
    const realtime = new RealtimeHub({ db: dialect.db, records, registry, log }, config.realtime)
    events.add(realtime.consumer)
    // A new password ends every session of its record, whoever set it (HTTP, CLI, a job).
    endSessionsOnNewPassword(dialect, records)
    const auth = await createAuthServices(dialect, registry, records, box, {
      issuer: config.publicUrl,
      tokenTtl: config.tokenTtl,
      sessionTtl: config.sessionTtl,
      relyingParty: { id: config.webauthn.rpId, origins: config.webauthn.origins },
      reauthWindow: config.reauthWindow,
    })
    const context = { records: new CallerRecords(records, superuser), log } as Omit<JobContext, keyof JobInfo>
    const jobs = new JobQueue(dialect, {
      context,
      log,
      concurrency: config.jobs.concurrency,
      pollInterval: config.jobs.pollIntervalMs,
      retention: config.jobs.retentionDays * DAY_MS,
      leaseMargin: config.jobs.leaseMarginMs,
      stopTimeout: config.shutdownTimeoutMs,
    })
    instrumentCore(metrics, { dialect, jobs, events, realtime })
    const files = new FileService(
      await openFileStorage(config.files),
      dialect.db,
      jobs,
      config.files,
      log,
      config.bodyLimit,
    )
    records.onChange((trx, change) => files.onRecordChange(trx, change))
    collections.onDrop((trx, collection) => files.onCollectionDrop(trx, collection))
    collections.onFieldsDrop((trx, collection, fields) => files.onFieldsDrop(trx, collection, fields))
    const mailTransport = createMailer(config, log)
    const mailer = queueMail(jobs, mailTransport, box)
    context.mailer = mailer
    records.setHookContext(
      (callerRecords, tx) =>
        ({
          records: callerRecords,
          mailer,
          log,
          // In a before-hook the job is added in the write's transaction: it exists only if the write commits.
          jobs: { enqueue: (name, payload, options) => jobs.enqueue(name, payload, options, tx) },
        }) satisfies ExtensionServices,
    )
    const project = config.projectConfig
      ? await loadConfigFile(config.projectConfig, (name) => registry.get(name) !== undefined)
      : {}
    records.hooks.replace(project.hooks ?? {})
    for (const [name, handler] of Object.entries(project.jobs ?? {})) jobs.register(name, handler)
    jobs.schedule(project.cron ?? [])
    const handlers = eventJobs(jobs, project.events ?? {})
    if (handlers) events.add(handlers)
    const brokers = await addBrokers(events, jobs, config.events, project.consumers ?? [], log)
    jobs.register(PRUNE_EVENTS_JOB, async () => {
      await events.prune()
    })
    jobs.schedule([{ name: PRUNE_EVENTS_JOB, schedule: '17 * * * *', job: PRUNE_EVENTS_JOB }])
    // With request logs off (0 days) the prune empties the table of what earlier runs kept.
    jobs.register(PRUNE_REQUEST_LOGS_JOB, async () => {
      await requestLogs.store.prune(Date.now() - config.requestLogs.retentionDays * DAY_MS)
    })
    jobs.schedule([{ name: PRUNE_REQUEST_LOGS_JOB, schedule: '29 * * * *', job: PRUNE_REQUEST_LOGS_JOB }])
    scheduleBackups(jobs, config, dialect, log)
    const pruner = setInterval(
      () => {
        Promise.all([pruneIdempotencyKeys(dialect.db), auth.lockout.prune()]).catch((error) =>
          log.warn({ err: error }, 'pruning expired rows failed'),
        )
      },
      60 * 60 * 1000,
    )
    pruner.unref()
    collections.onChange(() => state.publish('schema'))
    state.subscribe('schema', () => {
      collections
        .reloadIfChanged()
        .catch((error) => log.warn({ err: error }, 'reloading the collections failed'))
    })
    const stopWatchingSchema = collections.watch(SCHEMA_POLL_MS, (error) =>
      log.warn({ err: error }, 'checking for schema changes failed'),
    )
    return {
      config,
      log,
      dialect,
      state,
      reads,
      readCache,
      registry,
      collections,
      records,
      auth,
      mailer,
      jobs,
      events,
      brokers,
      webhooks,
      realtime,
      files,
      metrics,
      tracing,
      requestLogs,
      box,
      instanceSecret,
      project,
      async close() {
        clearInterval(pruner)
        stopWatchingSchema()
        realtime.stop()
        // Stopping first, so a delivery that a closing connection fails is not retried.
        const stoppingEvents = events.stop()
        await brokers.close()
        await stoppingEvents
        await webhooks.worker.stop()
        await jobs.stop()
        // After the HTTP server closed: the last answered requests are in the buffer.
        await requestLogs.writer?.flush()
        await mailTransport.close()
        await files.storage.close()
        await readCache.close()
        await reads.close()
        await state.close()
        await dialect.close()
        // Last: the spans of the work stopped above are sent before the exporter goes.
        await tracing?.close()
      },
    }
  } catch (error) {
    await replicas?.close()
    await state.close()
    await dialect.close()
    await tracing?.close()
    throw error
  }
}

function traceQueries(dialect: Dialect, tracing: Tracing): void {
  // The names OTel's database conventions give the two systems.
  const system = dialect.name === 'postgres' ? 'postgresql' : dialect.name
  dialect.onQuery((timing) => tracing.traceQuery({ ...timing, system }))
}

async function createLogger(config: PlinthConfig): Promise<Logger> {
  const { stream, ...options } = await loggerOptions(config)
  return stream ? pino(options, stream) : pino(options)
}

/** The first-run link, when no superuser exists yet. */
export function setupLinkFor(core: Core): Promise<string | null> {
  return createSetupLink(core.dialect.db, core.config.publicUrl)
}
