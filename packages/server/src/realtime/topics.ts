import type { CollectionRegistry } from '../collections/index.js'
import { BadRequestError, type FieldErrors, isPrototypeKey } from '../errors/index.js'

/** PocketBase's bound on one subscription string, `?options=` included. */
export const MAX_TOPIC_LENGTH = 2500
/** Keys of `options.query` and `options.headers`, and the length of each value. */
const MAX_OPTION_KEYS = 50
const MAX_OPTION_VALUE = 2048
const RECORD_ID = /^[A-Za-z0-9_-]{1,100}$/
// The topic is the SSE event name: one line, no control characters.
const PRINTABLE = /^[\x21-\x7e]+$/

/** One subscription: every record of a collection (`posts/*`), or one (`posts/<id>`). */
export interface Subscription {
  /** The string the client sent, exactly: events are named after it. */
  topic: string
  collection: string
  /** null for `*`, which the list rule decides; an id is decided by the view rule. */
  recordId: string | null
  filter: string
  expand?: string
  fields?: string
  /** `options.query` as the rules' `@request.query` sees it. */
  query: Record<string, string>
}

/**
 * Reads the subscriptions the PocketBase SDK sends: `<collection>/*` or
 * `<collection>/<id>`, each optionally followed by `?options=<JSON>` holding
 * `{query: {filter, expand, fields, …}, headers}`. Every problem is named by its index.
 *
 * Unlike PocketBase, which accepts any string and never sends anything for a topic it
 * does not know, an unknown collection is refused, so a typo shows at once.
 */
export function parseSubscriptions(topics: readonly string[], registry: CollectionRegistry): Subscription[] {
  const errors: FieldErrors = {}
  const parsed: Subscription[] = []
  topics.forEach((topic, index) => {
    try {
      parsed.push(parseSubscription(topic, registry))
    } catch (error) {
      if (!(error instanceof TopicError)) throw error
      errors[`subscriptions.${index}`] = { code: 'invalid_subscription', message: error.message }
    }
  })
  if (Object.keys(errors).length > 0)
    throw new BadRequestError('A subscription is not valid.', 'invalid_subscription', errors)
  return parsed
}

class TopicError extends Error {}

function parseSubscription(topic: string, registry: CollectionRegistry): Subscription {
  if (topic.length > MAX_TOPIC_LENGTH) throw new TopicError(`is longer than ${MAX_TOPIC_LENGTH} characters`)
  if (!PRINTABLE.test(topic)) throw new TopicError('must be printable ASCII without spaces')
  const question = topic.indexOf('?')
  const path = question === -1 ? topic : topic.slice(0, question)
  const slash = path.indexOf('/')
  if (slash === -1) throw new TopicError('must be "<collection>/*" or "<collection>/<record id>"')
  const collection = path.slice(0, slash)
  const target = path.slice(slash + 1)
  if (isPrototypeKey(collection) || isPrototypeKey(target)) throw new TopicError('names a reserved word')
  if (!registry.get(collection)) throw new TopicError(`collection "${collection}" does not exist`)
  if (target !== '*' && !RECORD_ID.test(target)) throw new TopicError('the record id is not valid')
  const options = question === -1 ? {} : parseOptions(topic.slice(question + 1))
  const query = options.query ?? {}
  return {
    topic,
    collection,
    recordId: target === '*' ? null : target.toLowerCase(),
    filter: query.filter ?? '',
    expand: query.expand || undefined,
    fields: query.fields || undefined,
    query,
  }
}

interface TopicOptions {
  query?: Record<string, string>
  headers?: Record<string, string>
}

/** `options=<URL-encoded JSON>`, the only parameter the SDK adds to a topic. */
function parseOptions(search: string): TopicOptions {
  const params = new URLSearchParams(search)
  const names = [...params.keys()]
  if (names.length !== 1 || names[0] !== 'options') throw new TopicError('may carry only ?options=<JSON>')
  let value: unknown
  try {
    value = JSON.parse(params.get('options')!)
  } catch {
    throw new TopicError('options is not valid JSON')
  }
  if (!isPlainObject(value)) throw new TopicError('options must be a JSON object')
  const options: TopicOptions = {}
  for (const [key, entry] of Object.entries(value)) {
    if (key !== 'query' && key !== 'headers') throw new TopicError(`options.${safeName(key)} is not known`)
    // The SDK sends `undefined` members as absent; null means the same.
    if (entry === null || entry === undefined) continue
    options[key] = stringMap(entry, `options.${key}`)
  }
  return options
}

function stringMap(value: unknown, name: string): Record<string, string> {
  if (!isPlainObject(value)) throw new TopicError(`${name} must be an object of strings`)
  const entries = Object.entries(value)
  if (entries.length > MAX_OPTION_KEYS) throw new TopicError(`${name} has more than ${MAX_OPTION_KEYS} keys`)
  // No prototype: a key such as `__proto__` is refused below, and could not reach one anyway.
  const map: Record<string, string> = Object.create(null)
  for (const [key, entry] of entries) {
    if (isPrototypeKey(key)) throw new TopicError(`${name} uses the reserved key "${key}"`)
    if (typeof entry !== 'string') throw new TopicError(`${name}.${safeName(key)} must be a string`)
    if (entry.length > MAX_OPTION_VALUE)
      throw new TopicError(`${name}.${safeName(key)} is longer than ${MAX_OPTION_VALUE} characters`)
    map[key] = entry
  }
  return map
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function safeName(key: string): string {
  return key.length > 40 ? `${key.slice(0, 40)}…` : key
}
