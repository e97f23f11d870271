import pino, { type Logger } from 'pino'
import {
  type AuthServices,
  createAuthServices,
  createSetupLink,
  endSessionsOnNewPassword,
  forgetAuthCollection,
} from '../auth/index.js'
import { CollectionRegistry, CollectionService } from '../collections/index.js'
import type { PlinthConfig } from '../config/index.js'
import { loadInstanceSecret, SecretBox } from '../crypto/index.js'
import { type Dialect, openDatabase, runSystemMigrations } from '../db/index.js'
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
import { pruneIdempotencyKeys } from '../idempotency/index.js'
import { superuser } from '../identity/index.js'
import { type JobInfo, JobQueue } from '../jobs/index.js'
import { createMailer, type Mailer, queueMail } from '../mail/index.js'
import { RealtimeHub } from '../realtime/index.js'
import { CallerRecords, RecordService } from '../records/index.js'
import { checkRules } from '../rules/index.js'
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
  /** The instance secret's box, for values kept encrypted in the database. */
  readonly box: SecretBox
  readonly instanceSecret: string
  /** The project's hooks and routes (empty without a plinth.config.ts). */
  readonly project: PlinthProjectConfig
  /** Stops background work and closes the database. */
  close(): Promise<void>
}

/** How often each node asks whether the collections changed elsewhere (the CLI, other nodes). */
const SCHEMA_POLL_MS = 500
const DAY_MS = 24 * 60 * 60 * 1000
const PRUNE_EVENTS_JOB = 'plinth.events.prune'

/** Opens the database, brings Plinth's own tables up to date and loads the collections. */
async function openStorage(config: PlinthConfig) {
  const dialect = await openDatabase(config)
  const registry = new CollectionRegistry()
  const collections = new CollectionService(dialect, registry, checkRules(dialect))
  collections.onDrop(forgetAuthCollection)
  try {
    await runSystemMigrations(dialect, systemMigrations(collections))
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
  const { dialect, registry, collections } = await openStorage(config)
  try {
    const instanceSecret = loadInstanceSecret(config.secret, config.dataDir)
    const box = new SecretBox(instanceSecret)
    const records = new RecordService(dialect, registry, { log })
    records.onChange(outboxListener(dialect))
    const events = new EventDispatcher(dialect, {
      pollInterval: config.events.pollIntervalMs,
      retention: config.events.retentionDays * DAY_MS,
      leaseMs: config.events.leaseMs,
      log,
    })
    records.onCommit(() => events.wake())
    const webhooks = createWebhooks(dialect, registry, box, config.webhooks, {
      pollInterval: config.events.pollIntervalMs,
      retention: config.events.retentionDays * DAY_MS,
      log,
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
    const brokers = addBrokers(events, jobs, config.events, project.consumers ?? [], log)
    jobs.register(PRUNE_EVENTS_JOB, async () => {
      await events.prune()
    })
    jobs.schedule([{ name: PRUNE_EVENTS_JOB, schedule: '17 * * * *', job: PRUNE_EVENTS_JOB }])
    const pruner = setInterval(
      () => {
        Promise.all([pruneIdempotencyKeys(dialect.db), auth.lockout.prune()]).catch((error) =>
          log.warn({ err: error }, 'pruning expired rows failed'),
        )
      },
      60 * 60 * 1000,
    )
    pruner.unref()
    const stopWatchingSchema = collections.watch(SCHEMA_POLL_MS, (error) =>
      log.warn({ err: error }, 'checking for schema changes failed'),
    )
    return {
      config,
      log,
      dialect,
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
        await mailTransport.close()
        await dialect.close()
      },
    }
  } catch (error) {
    await dialect.close()
    throw error
  }
}

async function createLogger(config: PlinthConfig): Promise<Logger> {
  const { stream, ...options } = await loggerOptions(config.logLevel, config.logFormat)
  return stream ? pino(options, stream) : pino(options)
}

/** The first-run link, when no superuser exists yet. */
export function setupLinkFor(core: Core): Promise<string | null> {
  return createSetupLink(core.dialect.db, core.config.publicUrl)
}
