export { createApp, openPlinthDatabase, type Plinth } from './app.js'
export { isPrettyLog } from './logging.js'
