import { MAX_KEYS_PER_RECORD } from '../auth/index.js'
import { recentSignInNote } from './auth-scope.js'
import { type JsonSchema, ref } from './document-context.js'
import { ok, operation, queryParameter } from './operations.js'
import { anonymous, signedIn } from './security-schemes.js'

export const ACCOUNT_TAGS = {
  sessions: 'Sessions and API keys',
  audit: 'Audit log',
  keys: 'Token signing keys',
} as const

/** Operation ids of these endpoints; collections must not take them. */
export const accountOperationIds = [
  'listSessions',
  'revokeSession',
  'listApiKeys',
  'createApiKey',
  'revokeApiKey',
  'listAuditLog',
  'jwks',
]

const ownNote = 'Needs a session: an API key answers 403.'

/** Endpoints of the signed-in caller (sessions, API keys), the audit log and the token keys. */
export function accountPaths(): Record<string, JsonSchema> {
  const sessions = [ACCOUNT_TAGS.sessions]
  return {
    '/api/auth/sessions': {
      get: operation('get', 'listSessions', sessions, {
        summary: "List the caller's sessions",
        description: ownNote,
        security: signedIn('get'),
        responses: { 200: ok('Every open session of the caller.', ref('SessionList')) },
        problems: [403],
      }),
    },
    '/api/auth/sessions/{id}': {
      parameters: [ref('SessionId', 'parameters')],
      delete: operation('delete', 'revokeSession', sessions, {
        summary: 'End one of the caller’s sessions',
        description: `Another record's session answers 404. ${ownNote}`,
        security: signedIn('delete'),
        responses: { 204: { description: 'The session is ended.' } },
        problems: [403, 404],
      }),
    },
    '/api/auth/api-keys': {
      get: operation('get', 'listApiKeys', sessions, {
        summary: "List the caller's API keys",
        description: `Never the keys themselves. ${ownNote}`,
        security: signedIn('get'),
        responses: { 200: ok('The keys, newest first.', ref('ApiKeyList')) },
        problems: [403],
      }),
      post: operation('post', 'createApiKey', sessions, {
        summary: 'Make an API key that acts as the caller',
        description: `A record holds at most ${MAX_KEYS_PER_RECORD} active keys. An impersonation session cannot make one. ${recentSignInNote} ${ownNote}`,
        security: signedIn('post'),
        body: { schema: ref('ApiKeyCreate') },
        responses: {
          201: ok('The key; `key` is shown this once, only its hash is kept.', ref('ApiKeyCreated')),
        },
        problems: [403],
      }),
    },
    '/api/auth/api-keys/{id}': {
      parameters: [ref('ApiKeyId', 'parameters')],
      delete: operation('delete', 'revokeApiKey', sessions, {
        summary: 'Revoke one of the caller’s API keys at once',
        description: `Another record's key answers 404. ${ownNote}`,
        security: signedIn('delete'),
        responses: { 204: { description: 'Revoked.' } },
        problems: [403, 404],
      }),
    },
    '/api/audit': {
      get: operation('get', 'listAuditLog', [ACCOUNT_TAGS.audit], {
        summary: 'Read the security events (superusers only)',
        description: 'Sign-ins, failures, lockouts, refresh reuse, impersonation, factor and key changes.',
        security: signedIn('get'),
        parameters: [
          queryParameter('page', 'The page, from 1.', { type: 'integer', minimum: 1, default: 1 }),
          queryParameter('perPage', 'Events per page.', {
            type: 'integer',
            minimum: 1,
            maximum: 500,
            default: 50,
          }),
          queryParameter('event', 'Only events of this kind (see AuditEntry.event).', { type: 'string' }),
          queryParameter('recordId', 'Only events about this record.', { type: 'string' }),
        ],
        responses: { 200: ok('One page of events.', ref('AuditLogPage')) },
        problems: [400, 403],
      }),
    },
    '/api/.well-known/jwks.json': {
      get: operation('get', 'jwks', [ACCOUNT_TAGS.keys], {
        summary: 'The public keys that verify access tokens',
        description: 'For services that check Plinth tokens themselves. Cached for 5 minutes.',
        security: anonymous,
        responses: { 200: ok('The key set.', ref('Jwks')) },
      }),
    },
  }
}
