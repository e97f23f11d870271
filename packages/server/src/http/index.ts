export { createApp, openPlinthDatabase, type Plinth } from './app.js'
