import { type JsonSchema, type OperationVerb, operationId, ref } from './document-context.js'
import { type OperationSpec, operation } from './operations.js'
import type { Method } from './security-schemes.js'

/** One auth collection, as its auth paths see it. */
export interface AuthScope {
  /** `/api/collections/{name}`. */
  prefix: string
  /** The unique part of the collection's operation ids. */
  base: string
  tags: string[]
  /** The schema of a signed-in record of the collection, as its owner sees it. */
  record: JsonSchema
}

/** Changes to how an account signs in, and new API keys, need a fresh sign-in. */
export const recentSignInNote =
  'Needs a sign-in within `PLINTH_REAUTH_WINDOW` (10 minutes by default; a refresh does not count), else 403.'

export function authTag(collection: string): string {
  return `${collection} auth`
}

/** An operation on one auth collection, its id made from the verb and the collection. */
export function authOperation(
  scope: AuthScope,
  method: Method,
  verb: OperationVerb,
  spec: OperationSpec,
): JsonSchema {
  return operation(method, operationId(verb, scope.base), scope.tags, spec)
}

const tokenNote = 'In cookie mode (`X-Plinth-Auth: cookie`) it comes as a cookie and is left out of the body.'

interface TokensOptions {
  /** Impersonation tokens cannot be refreshed. */
  hasRefreshToken?: boolean
  /** Whether the answer may say that the record is to enrol a second factor. */
  mayNeedEnrollment?: boolean
  /** Fields the answer of this flow adds. */
  extra?: Record<string, JsonSchema>
}

/** Tokens and the signed-in record. */
export function authResult(record: JsonSchema, options: TokensOptions = {}): JsonSchema {
  const extra = options.extra ?? {}
  const properties: Record<string, JsonSchema> = {
    token: {
      type: 'string',
      description: `The access token (a JWT) for \`Authorization: Bearer …\`. ${tokenNote}`,
    },
  }
  if (options.hasRefreshToken !== false)
    properties.refreshToken = {
      type: 'string',
      description: `For auth-refresh; single use, each refresh gives a new one. ${tokenNote}`,
    }
  properties.record = record
  if (options.mayNeedEnrollment)
    properties.mfaEnrollmentRequired = {
      type: 'boolean',
      const: true,
      description: 'Present when the collection requires a second factor and the record has none yet.',
    }
  return {
    type: 'object',
    description: 'Signed in.',
    properties: { ...properties, ...extra },
    required: ['record', ...Object.keys(extra)],
  }
}

/** Tokens, or (when the record has a second factor) an MFA challenge to answer first. */
export function signInResult(record: JsonSchema, extra: Record<string, JsonSchema> = {}): JsonSchema {
  const challenge =
    Object.keys(extra).length === 0
      ? ref('MfaChallenge')
      : { allOf: [ref('MfaChallenge')], type: 'object', properties: extra, required: Object.keys(extra) }
  return { oneOf: [authResult(record, { mayNeedEnrollment: true, extra }), challenge] }
}
