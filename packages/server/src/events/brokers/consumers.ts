import { hash } from 'node:crypto'

/**
 * A project's consumer of broker messages: each message becomes a job, added to the
 * durable job queue before the message is acknowledged.
 */
export type BrokerConsumer = AmqpConsumer | NatsConsumer

export interface AmqpConsumer {
  from: 'amqp'
  /** A RabbitMQ queue; declared durable when it does not exist. */
  queue: string
  /** The job each message becomes; its payload is the message body. */
  job: string
}

export interface NatsConsumer {
  from: 'nats'
  /** A subject of a JetStream stream; wildcards allowed (`orders.>`). */
  subject: string
  job: string
  /** The stream that holds the subject; found from the subject when left out. */
  stream?: string
  /** The durable consumer's name; `plinth_<job>_<hash>` when left out. */
  durable?: string
}

const KEYS: Record<BrokerConsumer['from'], readonly string[]> = {
  amqp: ['from', 'queue', 'job'],
  nats: ['from', 'subject', 'job', 'stream', 'durable'],
}

/** JetStream names are single subject tokens. */
const NATS_NAME = /^[A-Za-z0-9_-]{1,64}$/

/**
 * Why an entry of `consumers` cannot be used, or null; `near` is its queue or
 * subject, for pointing at the line of the config file that names it.
 */
export function brokerConsumerProblem(
  entry: unknown,
  jobExists: (name: string) => boolean,
): { why: string; near: string | null } | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return { why: 'a consumer must be an object such as { from: "amqp", queue, job }', near: null }
  const fields = entry as Record<string, unknown>
  const from = fields.from
  if (from !== 'amqp' && from !== 'nats')
    return { why: `a consumer's "from" must be "amqp" or "nats", not ${JSON.stringify(from)}`, near: null }
  const source = from === 'amqp' ? fields.queue : fields.subject
  const near = typeof source === 'string' && source !== '' ? source : null
  const unknown = Object.keys(fields).find((key) => !KEYS[from].includes(key))
  if (unknown !== undefined)
    return {
      why: `a consumer from ${from} has the unknown key "${unknown}" (expected ${KEYS[from].join(', ')})`,
      near,
    }
  if (from === 'amqp') {
    if (typeof fields.queue !== 'string' || fields.queue === '' || Buffer.byteLength(fields.queue) > 255)
      return { why: 'a consumer from amqp needs a queue name of 1 to 255 bytes', near }
    if (fields.queue.startsWith('amq.'))
      return { why: `queue names starting with "amq." belong to RabbitMQ ("${fields.queue}")`, near }
  } else {
    if (typeof fields.subject !== 'string' || !isSubject(fields.subject))
      return {
        why: `a consumer from nats needs a subject such as "orders.>", not ${JSON.stringify(fields.subject)}`,
        near,
      }
    for (const key of ['stream', 'durable'] as const)
      if (fields[key] !== undefined && (typeof fields[key] !== 'string' || !NATS_NAME.test(fields[key])))
        return {
          why: `a consumer's ${key} must be letters, digits, _ or -, not ${JSON.stringify(fields[key])}`,
          near,
        }
  }
  if (typeof fields.job !== 'string' || !jobExists(fields.job))
    return {
      why: `the consumer of ${describe(fields)} names the job "${String(fields.job)}", which jobs does not define`,
      near,
    }
  return null
}

/** Why two consumers would read the same messages, or null. */
export function duplicateConsumerProblem(consumers: BrokerConsumer[]): string | null {
  const seen = new Set<string>()
  for (const consumer of consumers) {
    const key = consumer.from === 'amqp' ? `amqp:${consumer.queue}` : `nats:${natsDurableName(consumer)}`
    if (seen.has(key)) return `two consumers read ${describe(consumer)}; give each its own`
    seen.add(key)
  }
  return null
}

function describe(consumer: Partial<Record<'from' | 'queue' | 'subject' | 'durable', unknown>>): string {
  return consumer.from === 'amqp'
    ? `queue "${String(consumer.queue)}"`
    : `subject "${String(consumer.subject)}"${consumer.durable ? ` (durable "${String(consumer.durable)}")` : ''}`
}

function isSubject(subject: string): boolean {
  const tokens = subject.split('.')
  return tokens.every(
    (token, index) =>
      token !== '' &&
      !/\s/.test(token) &&
      (token === '>' ? index === tokens.length - 1 : !/[*>]/.test(token) || token === '*'),
  )
}

/** A stable name per job and subject, so a restart resumes where the last run stopped. */
export function natsDurableName(consumer: NatsConsumer): string {
  if (consumer.durable) return consumer.durable
  const job = consumer.job.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)
  const digest = hash('sha256', `${consumer.stream ?? ''}|${consumer.subject}`, 'hex')
  return `plinth_${job}_${digest.slice(0, 8)}`
}

/** A message body as a job payload: its JSON value, or the text itself when it is not JSON. */
export function messagePayload(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
