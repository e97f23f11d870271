export { type Core, type CoreOptions, createCore, openStorage, setupLinkFor } from './core.js'
export { loggerOptions, redactUrl } from './logging.js'
