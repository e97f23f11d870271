export { type Core, createCore, openPlinthDatabase, setupLinkFor } from './core.js'
export { isPrettyLog, loggerOptions, redactUrl } from './logging.js'
export { systemMigrations } from './system-migrations.js'
