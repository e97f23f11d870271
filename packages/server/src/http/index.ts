export { type AppOptions, createApp, type Plinth } from './app.js'
