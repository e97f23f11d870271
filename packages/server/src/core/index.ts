export { type Core, type CoreOptions, createCore, openStorage, setupLinkFor } from './core.js'
export { isPrettyLog, loggerOptions, redactUrl } from './logging.js'
