export { buildHttpApp, createApp, type Plinth } from './app.js'
