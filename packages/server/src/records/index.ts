export { batchRoutes, MAX_BATCH_REQUESTS } from './batch-routes.js'
export { CallerRecords, type ListOptions } from './caller-records.js'
export { MAX_BACK_RELATED, MAX_EXPAND_DEPTH } from './expand.js'
export { HOOK_NAMES, type HookName, type RecordHookBase } from './hooks.js'
export {
  DEFAULT_PER_PAGE,
  invalidQuery,
  type ListParams,
  MAX_PER_PAGE,
  parseListParams,
  readQuery,
} from './list-params.js'
export { ReadRouting } from './read-routing.js'
export { recordsRoutes } from './routes.js'
export { RecordService, type WriteResult, type WriteScope } from './service.js'
export type {
  ChangeListener,
  ChangeUnit,
  ListPage,
  RecordChange,
  RecordData,
  WriteGuard,
} from './types.js'
export { writeStickiness } from './write-stickiness.js'
export { newVersion } from './writer.js'
