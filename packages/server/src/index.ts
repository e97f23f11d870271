/**
 * The `plinth` package: what a project's `plinth.config.ts` imports.
 *
 * @example
 * import { defineConfig, HookError } from 'plinth'
 * export default defineConfig({
 *   hooks: { orders: { beforeCreate({ record }) { if (!record.items) throw new HookError(400, 'Empty order') } } },
 * })
 */
export { type Core, createCore } from './core/index.js'
export { HookError, PlinthError } from './errors/index.js'
export {
  type CollectionHooks,
  defineConfig,
  type EventHandlerDefinition,
  type ExtensionServices,
  type Hook,
  type HookEvent,
  type HooksConfig,
  type JobContext,
  type JobHandlerDefinition,
  type JobsClient,
  type PlinthCollections,
  type PlinthProjectConfig,
  type RecordOf,
  type RouteContext,
  type RouteDefinition,
} from './extensions/index.js'
export type { Caller } from './identity/index.js'
export type { CronEntry, EnqueueOptions } from './jobs/index.js'
export type { CallerRecords, HookName, ListOptions, ListPage, RecordData } from './records/index.js'
