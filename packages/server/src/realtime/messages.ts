import { BadRequestError, PlinthError, problemDetails } from '../errors/index.js'
import { MAX_TOPIC_LENGTH } from './topics.js'

/** Subscriptions one request may carry before the per-client limit is even asked. */
export const MAX_TOPICS = 1000
export const MAX_CLIENT_ID = 255
const MAX_TOKEN = 4096

/** What a WebSocket client sends: its whole set of subscriptions, with a token when it signs in. */
export interface SubscribeMessage {
  type: 'subscribe'
  subscriptions: string[]
  token?: string
}

function invalid(field: string, message: string): BadRequestError {
  return new BadRequestError(`The message is not valid: ${field} ${message}.`, 'bad_request', {
    [field]: { code: 'invalid', message },
  })
}

/**
 * Reads one WebSocket message with the checks a POST body gets: JSON, an object with
 * known keys only, strings within their bounds.
 */
export function parseMessage(raw: string): SubscribeMessage {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw new PlinthError(400, 'malformed_json', 'The message is not valid JSON.', {
      body: { code: 'malformed_json', message: 'is not valid JSON' },
    })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('body', 'must be a JSON object')
  for (const key of Object.keys(value))
    if (!['type', 'subscriptions', 'token'].includes(key)) throw invalid(key.slice(0, 40), 'is not known')
  const { type, subscriptions, token } = value as Record<string, unknown>
  if (type !== 'subscribe') throw invalid('type', 'must be "subscribe"')
  if (!Array.isArray(subscriptions)) throw invalid('subscriptions', 'must be an array of strings')
  if (subscriptions.length > MAX_TOPICS) throw invalid('subscriptions', `must hold at most ${MAX_TOPICS}`)
  for (const topic of subscriptions)
    if (typeof topic !== 'string' || topic.length > MAX_TOPIC_LENGTH)
      throw invalid('subscriptions', `must be strings of at most ${MAX_TOPIC_LENGTH} characters`)
  if (token !== undefined && (typeof token !== 'string' || token.length > MAX_TOKEN))
    throw invalid('token', 'must be an access token')
  return { type, subscriptions, ...(token === undefined ? {} : { token }) } as SubscribeMessage
}

/** An error as a WebSocket message: the problem+json body an HTTP answer would carry. */
export function errorMessage(error: PlinthError): string {
  return JSON.stringify({ type: 'error', error: problemDetails(error) })
}
