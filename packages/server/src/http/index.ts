export { createApp, type Plinth } from './app.js'
