import { createHmac, randomBytes } from 'node:crypto'

const PREFIX = 'whsec_'

/** A new signing secret in the Standard Webhooks form: `whsec_` and 24 random bytes in base64. */
export function newSecret(): string {
  return `${PREFIX}${randomBytes(24).toString('base64')}`
}

/**
 * The `webhook-signature` header of the Standard Webhooks specification: `v1,` and the
 * base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the decoded part after `whsec_`.
 */
export function signature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.slice(PREFIX.length), 'base64')
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
  return `v1,${mac}`
}
