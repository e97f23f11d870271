import type { OutgoingHttpHeaders } from 'node:http'
import fastifyWebsocket from '@fastify/websocket'
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { decodeJwt } from 'jose'
import type { RawData, WebSocket } from 'ws'
import { accessTokenOf, type TokenService } from '../auth/index.js'
import { PlinthError } from '../errors/index.js'
import { anonymous, type Caller } from '../identity/index.js'
import type { Identity } from './client.js'
import type { RealtimeHub } from './hub.js'
import { errorMessage, MAX_CLIENT_ID, MAX_TOPICS, parseMessage } from './messages.js'
import { SubscriptionRelay } from './subscription-relay.js'
import { MAX_TOPIC_LENGTH } from './topics.js'
import { SseTransport, WebSocketTransport } from './transports.js'

const subscribeBody = Type.Object(
  {
    clientId: Type.String({ minLength: 1, maxLength: MAX_CLIENT_ID }),
    subscriptions: Type.Array(Type.String({ maxLength: MAX_TOPIC_LENGTH }), { maxItems: MAX_TOPICS }),
  },
  { additionalProperties: false },
)

/** The access token's `exp` in ms, or null when the caller came with none (anonymous, an API key). */
function expiryOf(token: string | undefined): number | null {
  if (!token) return null
  try {
    const { exp } = decodeJwt(token)
    return typeof exp === 'number' ? exp * 1000 : null
  } catch {
    return null
  }
}

/** Who the request comes from, as the authentication plugin found it, and until when. */
function identityOf(request: FastifyRequest): Identity {
  const token = request.caller.auth ? accessTokenOf(request) : undefined
  return { caller: request.caller, expiresAt: expiryOf(token) }
}

function lastEventIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers['last-event-id']
  if (typeof header === 'string') return header
  const query = (request.query as Record<string, unknown> | undefined)?.lastEventId
  return typeof query === 'string' ? query : undefined
}

/**
 * `GET /api/realtime` (Server-Sent Events), `POST /api/realtime` (set a client's
 * subscriptions) and `GET /api/realtime/ws` (the same over a WebSocket): the protocol of
 * the PocketBase SDK, with every event checked against the subscriber's rules.
 *
 * @example
 * await app.register(realtimeRoutes)
 */
export async function realtimeRoutes(app: FastifyInstance): Promise<void> {
  const { config, log, auth, realtime: hub, state } = app.plinth
  const relay = new SubscriptionRelay(
    state,
    hub,
    (token) => (token ? signedIn(auth.tokens, token) : anonymously()),
    log,
  )
  app.addHook('onReady', function startRelay(done) {
    relay.start()
    done()
  })
  // Before the server waits for open connections to finish: a stream never would.
  app.addHook('preClose', function stopRealtime(done) {
    relay.stop()
    hub.stop()
    done()
  })
  await app.register(fastifyWebsocket, { options: { maxPayload: config.bodyLimit } })
  // An upgrade refused by a hook (a bad token, a limit) is answered over a socket the HTTP
  // server no longer tracks: closed here, or it would stay open with nothing to time it out.
  app.addHook('onResponse', function closeRefusedUpgrade(request, reply, done) {
    if (request.headers.upgrade !== undefined && reply.statusCode !== 101) request.raw.socket?.end()
    done()
  })

  app.get('/api/realtime', async function openStream(request, reply) {
    const transport = new SseTransport(reply.raw)
    const client = hub.connect(transport, identityOf(request), request.ip, lastEventIdOf(request))
    reply.hijack()
    transport.open({
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // nginx would otherwise hold events back to fill its buffer.
      'x-accel-buffering': 'no',
    })
    reply.raw.on('close', () => hub.disconnected(client))
    transport.connected(client.id)
  })

  app.post<{ Body: Static<typeof subscribeBody> }>(
    '/api/realtime',
    { schema: { body: subscribeBody } },
    async function setSubscriptions(request, reply) {
      const { clientId, subscriptions } = request.body
      if (hub.holds(clientId)) await hub.subscribe(hub.find(clientId), subscriptions, identityOf(request))
      else
        await relay.subscribe(
          clientId,
          subscriptions,
          request.caller.auth ? (accessTokenOf(request) ?? null) : null,
        )
      return reply.code(204).send()
    },
  )

  app.get(
    '/api/realtime/ws',
    {
      websocket: true,
      // Before the upgrade, so a refusal is an HTTP answer (401, 429) rather than a closed socket.
      preValidation: async function mayConnect(request) {
        hub.assertMayConnect(identityOf(request), request.ip)
      },
    },
    function openSocket(socket: WebSocket, request) {
      const transport = new WebSocketTransport(socket)
      let client: ReturnType<RealtimeHub['connect']>
      try {
        client = hub.connect(transport, identityOf(request), request.ip, lastEventIdOf(request))
      } catch (error) {
        if (!(error instanceof PlinthError)) throw error
        transport.send(errorMessage(error))
        socket.close(1008, error.code)
        return
      }
      socket.on('close', () => hub.disconnected(client))
      transport.connected(client.id)
      // One message at a time, so subscriptions are set in the order they were sent.
      let queue = Promise.resolve()
      socket.on('message', (data: RawData, isBinary: boolean) => {
        queue = queue.then(async () => {
          try {
            if (isBinary) throw new PlinthError(415, 'unsupported_media_type', 'Send JSON text messages.')
            const message = parseMessage(data.toString())
            // The socket keeps the identity it has until a message brings a new token.
            const identity = message.token ? await signedIn(auth.tokens, message.token) : client.identity
            await hub.subscribe(client, message.subscriptions, identity)
            transport.send(JSON.stringify({ type: 'subscribed', subscriptions: message.subscriptions }))
          } catch (error) {
            if (error instanceof PlinthError) return transport.send(errorMessage(error))
            log.error({ err: error, clientId: client.id }, 'a realtime message failed')
            transport.send(errorMessage(new PlinthError(500, 'internal', 'Something went wrong.')))
          }
        })
      })
    },
  )
}

async function anonymously(): Promise<Identity> {
  return { caller: anonymous, expiresAt: null }
}

async function signedIn(tokens: TokenService, token: string): Promise<Identity> {
  const caller: Caller = await tokens.verify(token)
  return { caller, expiresAt: expiryOf(token) }
}
