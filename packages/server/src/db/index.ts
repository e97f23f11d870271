export { type DatabaseSettings, openDatabase, openReadReplicas, sqliteFile } from './connect.js'
export type { ConstraintViolation, Dialect, PoolUse, StorageKind, ViewColumn } from './dialect.js'
export {
  type FullTextIndex,
  type FullTextQuery,
  type FullTextTerm,
  MARK_END,
  MARK_START,
  type SearchLanguage,
  searchLanguages,
} from './full-text.js'
export {
  appliedSystemMigrations,
  ping,
  runSystemMigrations,
  SYSTEM_MIGRATIONS_TABLE,
  type SystemMigration,
} from './migrator.js'
export type { Notifications } from './notifications.js'
export type { QueryOperation, QueryTiming } from './query-timing.js'
export type { ReadReplicas, ReplicaStatus } from './read-replicas.js'
export { StatementShapes } from './statement-shapes.js'
export type { CatalogColumn, CatalogForeignKey, TableCatalog } from './table-catalog.js'
