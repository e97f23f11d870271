/**
 * A project's own TypeScript inside Plinth: `plinth.config.ts` with record hooks and
 * routes, loaded without a build step.
 *
 * @example
 * const project = await loadConfigFile('plinth.config.ts', (name) => registry.get(name) !== undefined)
 */
export { findConfigFile, loadConfigFile, ProjectConfigError } from './config-file.js'
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
} from './define-config.js'
export { projectRoutes } from './routes.js'
export { collectionTypes } from './typegen.js'
