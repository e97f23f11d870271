export { batchRoutes, MAX_BATCH_REQUESTS } from './batch-routes.js'
export { CallerRecords, type ListOptions } from './caller-records.js'
export { HOOK_NAMES, type HookName, type RecordHookBase } from './hooks.js'
export { DEFAULT_PER_PAGE, type ListParams, MAX_PER_PAGE, parseListParams } from './list-params.js'
export { MAX_EXPAND_DEPTH } from './reader.js'
export { recordsRoutes } from './routes.js'
export { RecordService, type WriteResult, type WriteScope } from './service.js'
export type {
  ChangeListener,
  ListPage,
  RecordChange,
  RecordData,
  WriteGuard,
} from './types.js'
