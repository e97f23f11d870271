import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { SharedState } from '../cluster/index.js'
import { type FieldErrors, NotFoundError, PlinthError } from '../errors/index.js'
import type { Identity } from './client.js'
import type { RealtimeHub } from './hub.js'

/** How long a node waits for the node holding a client to answer, in ms; then no node holds it. */
const ANSWER_WAIT_MS = 2000

interface SubscribeMessage {
  type: 'subscribe'
  id: string
  clientId: string
  subscriptions: string[]
  /** The caller's access token, which the holding node verifies itself; null for anonymous. */
  token: string | null
}

interface AnswerMessage {
  type: 'answer'
  id: string
  error: { status: number; code: string; message: string; fields?: FieldErrors } | null
}

/**
 * A load balancer sends each request to any node, so `POST /api/realtime` often reaches
 * another node than the one holding the client's stream. That node asks every node
 * through the shared state; the node holding the client sets the subscriptions as the
 * request's caller and answers with what it would have answered itself.
 */
export class SubscriptionRelay {
  readonly #waiting = new Map<string, (answer: AnswerMessage) => void>()
  #unsubscribe: (() => void) | null = null

  constructor(
    private readonly state: SharedState,
    private readonly hub: RealtimeHub,
    private readonly identityOf: (token: string | null) => Promise<Identity>,
    private readonly log: Pick<Logger, 'warn' | 'error'>,
  ) {}

  start(): void {
    this.#unsubscribe ??= this.state.subscribe('realtime', (raw) => {
      let message: SubscribeMessage | AnswerMessage
      try {
        message = JSON.parse(raw)
      } catch {
        return this.log.warn('a realtime message from another node was not JSON')
      }
      if (message.type === 'answer') this.#waiting.get(message.id)?.(message)
      else if (message.type === 'subscribe' && this.hub.holds(message.clientId)) void this.#serve(message)
    })
  }

  stop(): void {
    this.#unsubscribe?.()
    this.#unsubscribe = null
  }

  /** Sets the subscriptions of a client another node holds; throws what that node refused with. */
  async subscribe(clientId: string, subscriptions: string[], token: string | null): Promise<void> {
    const id = randomUUID()
    const answered = new Promise<AnswerMessage | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), ANSWER_WAIT_MS)
      this.#waiting.set(id, (answer) => {
        clearTimeout(timer)
        resolve(answer)
      })
    })
    try {
      const message: SubscribeMessage = { type: 'subscribe', id, clientId, subscriptions, token }
      await this.state.publish('realtime', JSON.stringify(message))
      const answer = await answered
      if (!answer) throw new NotFoundError('realtime client')
      if (answer.error) {
        const { status, code, message: text, fields } = answer.error
        throw new PlinthError(status, code, text, fields)
      }
    } finally {
      this.#waiting.delete(id)
    }
  }

  async #serve(message: SubscribeMessage): Promise<void> {
    let error: AnswerMessage['error'] = null
    try {
      const identity = await this.identityOf(message.token)
      await this.hub.subscribe(this.hub.find(message.clientId), message.subscriptions, identity)
    } catch (cause) {
      const known = cause instanceof PlinthError
      if (!known) this.log.error({ err: cause, clientId: message.clientId }, 'a relayed subscription failed')
      error = known
        ? { status: cause.status, code: cause.code, message: cause.message, fields: cause.fields }
        : { status: 500, code: 'internal', message: 'Something went wrong.' }
    }
    const answer: AnswerMessage = { type: 'answer', id: message.id, error }
    await this.state.publish('realtime', JSON.stringify(answer))
  }
}
