import { type JsonSchema, ref } from './document-context.js'
import { operation } from './operations.js'
import { optionallySignedIn } from './security-schemes.js'

export const REALTIME_TAG = 'Realtime'

/** Operation ids of these endpoints; collections must not take them. */
export const realtimeOperationIds = ['openRealtimeStream', 'setRealtimeSubscriptions', 'openRealtimeSocket']

export const realtimeSchemas: Record<string, JsonSchema> = {
  RealtimeSubscriptions: {
    type: 'object',
    additionalProperties: false,
    properties: {
      clientId: { type: 'string', minLength: 1, maxLength: 255, description: 'From the PB_CONNECT event.' },
      subscriptions: {
        type: 'array',
        maxItems: 1000,
        items: { type: 'string', maxLength: 2500 },
        description:
          'The whole set: `<collection>/*` (list rule) or `<collection>/<id>` (view rule), each optionally ' +
          'followed by `?options=` and URL-encoded JSON `{"query": {"filter", "expand", "fields", …}}`.',
      },
    },
    required: ['clientId', 'subscriptions'],
  },
}

/** Server-Sent Events and WebSocket streams of record events, in the PocketBase SDK's protocol. */
export function realtimePaths(): Record<string, JsonSchema> {
  const tags = [REALTIME_TAG]
  return {
    '/api/realtime': {
      get: operation('get', 'openRealtimeStream', tags, {
        summary: 'Open a stream of record events (Server-Sent Events)',
        description:
          'The first event, `PB_CONNECT`, carries `{clientId}` (also its `id:`). Each record event is named ' +
          'after the subscription it matched, its `id:` is the event seq and its data `{action, record}`. ' +
          '`Last-Event-ID` resumes after that seq once the client subscribes; `PB_RESET` says events were ' +
          'missed and the client should reload; `PB_END` `{reason}` comes last when the token expires or ' +
          'the session ends. 429 when the caller holds its limit of streams.',
        security: optionallySignedIn('get'),
        parameters: [
          {
            name: 'Last-Event-ID',
            in: 'header',
            required: false,
            description: 'The last event seq (or client id) the client saw.',
            schema: { type: 'string', maxLength: 255 },
          },
        ],
        responses: {
          200: {
            description: 'The stream.',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
        },
        problems: [429],
      }),
      post: operation('post', 'setRealtimeSubscriptions', tags, {
        summary: 'Set the subscriptions of a realtime client',
        description:
          'Each event is checked against the caller’s list rule (`*`) or view rule (an id) and the ' +
          'subscription’s filter before it is sent. The first signed-in request makes its record the ' +
          'client’s owner; other callers then get 403. An unknown client id is 404.',
        security: optionallySignedIn('post'),
        body: { schema: ref('RealtimeSubscriptions') },
        responses: { 204: { description: 'The subscriptions are set.' } },
        problems: [400, 403, 404, 429],
      }),
    },
    '/api/realtime/ws': {
      get: operation('get', 'openRealtimeSocket', tags, {
        summary: 'Open a WebSocket of record events',
        description:
          'Send `{"type":"subscribe","subscriptions":[…],"token"?}`; answers `subscribed` or `error` ' +
          '(a problem). Events arrive as `{"type":"event","id","topic","data":{action, record}}`; also ' +
          '`connect`, `reset` and `end`. `?lastEventId=` resumes.',
        security: optionallySignedIn('get'),
        responses: { 101: { description: 'Switching to the WebSocket protocol.' } },
        problems: [429],
      }),
    },
  }
}
