export { type Core, createCore, setupLinkFor } from './core.js'
export { isPrettyLog, loggerOptions, redactUrl } from './logging.js'
