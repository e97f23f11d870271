/**
 * Realtime: record events pushed to clients over Server-Sent Events (the PocketBase
 * SDK's protocol) or a WebSocket, each checked against the subscriber's rules.
 *
 * @example
 * await app.register(realtimeRoutes)
 * // client: pb.collection('posts').subscribe('*', (e) => console.log(e.action, e.record))
 */
export { type HubDependencies, RealtimeHub } from './hub.js'
export { realtimeRoutes } from './routes.js'
export { CONNECT_EVENT, END_EVENT, RESET_EVENT } from './transports.js'
