import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Logger } from 'pino'
import type { BrokerConsumer, PlinthEvent } from '../events/index.js'
import type { Caller } from '../identity/index.js'
import type { CronEntry, EnqueueOptions, JobInfo } from '../jobs/index.js'
import type { Mailer } from '../mail/index.js'
import type { CallerRecords, HookName, RecordData, RecordHookBase } from '../records/index.js'

/**
 * Record types by collection name. Empty here; `plinth typegen` writes a declaration
 * file that fills it, so hooks and routes see each collection's fields.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging from plinth-types.d.ts
export interface PlinthCollections {}

type KnownCollection = keyof PlinthCollections & string

/** A record of collection `C`: its typed fields once typegen ran, any fields before. */
export type RecordOf<C extends string> = C extends KnownCollection ? PlinthCollections[C] : RecordData

/** Adds background jobs; from a before-hook, the job exists only if the write commits. */
export interface JobsClient {
  /** Answers the job's id, or null when a pending job already holds `options.uniqueKey`. */
  enqueue(name: string, payload?: unknown, options?: EnqueueOptions): Promise<string | null>
}

/** What hooks and routes can use besides their own arguments. */
export interface ExtensionServices {
  /** Records acting as the caller (rules apply); `records.asSuperuser()` to act past them. */
  records: CallerRecords
  /** Sends through the job queue: a failed send is retried. */
  mailer: Mailer
  jobs: JobsClient
  log: Logger
}

/** What a job handler gets beside its payload; its records act as a superuser. */
export interface JobContext extends JobInfo {
  records: CallerRecords
  mailer: Mailer
  log: Logger
}

export type JobHandlerDefinition = (payload: any, context: JobContext) => unknown

export interface HookEvent<C extends string>
  extends Omit<RecordHookBase, 'record' | 'previous' | 'collection'>,
    ExtensionServices {
  collection: C
  /** Before-hooks may change it; the change is validated like a request body. */
  record: RecordOf<C>
  previous: RecordOf<C> | null
}

export type Hook<C extends string> = (event: HookEvent<C>) => void | Promise<void>
export type CollectionHooks<C extends string> = Partial<Record<HookName, Hook<C>>>

/** Hooks by collection name, or `*` for every collection. */
export type HooksConfig = [KnownCollection] extends [never]
  ? Record<string, CollectionHooks<string>>
  : { [C in KnownCollection]?: CollectionHooks<C> } & { '*'?: CollectionHooks<string> }

export interface RouteContext extends ExtensionServices {
  params: Record<string, string>
  query: Record<string, unknown>
  body: unknown
  /** Who is asking, from the request's token, cookie or API key. */
  caller: Caller
  request: FastifyRequest
  reply: FastifyReply
}

export interface RouteDefinition {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** A Fastify path, e.g. `/api/orders/:id/ship`. */
  path: string
  /** Its return value is sent as JSON (200); `reply` sets anything else. */
  handler(context: RouteContext): unknown
}

/** Reacts to a committed change; runs as a job, so a throw retries it. */
export type EventHandlerDefinition = (event: PlinthEvent, context: JobContext) => unknown

export interface PlinthProjectConfig {
  hooks?: HooksConfig
  routes?: RouteDefinition[]
  /** Job handlers by name; a throw retries the job with backoff, then it is dead. */
  jobs?: Record<string, JobHandlerDefinition>
  /** Schedules that enqueue a job once per tick across every node (cron expressions, UTC). */
  cron?: CronEntry[]
  /**
   * Handlers of committed changes by `<collection>.<action>` (`orders.create`,
   * `orders.*`, `*.delete`): each runs as a job at least once per matching event.
   */
  events?: Record<string, EventHandlerDefinition>
  /**
   * Messages from a RabbitMQ queue or a NATS JetStream subject, each turned into a
   * job of `jobs` (payload: the body's JSON, or its text) before it is acknowledged.
   * The connections are PLINTH_EVENTS_AMQP_URL and PLINTH_EVENTS_NATS_URL.
   */
  consumers?: BrokerConsumer[]
}

/**
 * Declares a project's hooks and routes in `plinth.config.ts`, typed end to end.
 *
 * @example
 * export default defineConfig({
 *   hooks: { orders: { async beforeCreate({ record }) { if (record.quantity > 10) throw new HookError(400, 'Too many') } } },
 * })
 */
export function defineConfig(config: PlinthProjectConfig): PlinthProjectConfig {
  return config
}
