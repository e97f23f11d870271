export { type DatabaseSettings, openDatabase } from './connect.js'
export type { ConstraintViolation, Dialect, StorageKind, ViewColumn } from './dialect.js'
export { appliedSystemMigrations, ping, runSystemMigrations, type SystemMigration } from './migrator.js'
