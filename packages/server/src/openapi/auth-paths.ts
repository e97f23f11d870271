import type { CollectionDefinition } from '../collections/index.js'
import { type AuthScope, authOperation, authResult, authTag, signInResult } from './auth-scope.js'
import { type JsonSchema, ref } from './document-context.js'
import { emailFlowPaths } from './email-flow-paths.js'
import { mfaPaths } from './mfa-paths.js'
import { oauth2Paths } from './oauth2-paths.js'
import { ok } from './operations.js'
import { anonymous, refreshCredentials, signedIn } from './security-schemes.js'

function sessionPaths(scope: AuthScope, collection: string): Record<string, JsonSchema> {
  const { prefix, record } = scope
  return {
    [`${prefix}/auth-with-password`]: {
      post: authOperation(scope, 'post', 'authWithPassword', {
        summary: `Sign in to ${collection} with an identity and a password`,
        description:
          'Answers tokens, or `{mfaId}` when the record has a second factor. Ten failures for one identity within 15 minutes answer 429, whether it exists or not; a collection with `onlyVerified` refuses unverified records with 403.',
        security: anonymous,
        parameters: ['AuthMode'],
        body: { schema: ref('PasswordSignIn') },
        responses: { 200: ok('Signed in, or a second factor is due.', signInResult(record)) },
        problems: [400, 403],
      }),
    },
    [`${prefix}/auth-refresh`]: {
      post: authOperation(scope, 'post', 'authRefresh', {
        summary: `Trade a refresh token of ${collection} for new tokens`,
        description:
          'The refresh token is spent. Presenting a spent one again ends its whole session, since it must have been copied. Without a refresh token, an access token in Authorization (as PocketBase clients send it) gets a new access token of the same session, with no refresh token, while the session is active; an impersonation token cannot be refreshed.',
        security: refreshCredentials,
        parameters: ['AuthMode'],
        body: { schema: ref('RefreshRequest'), isOptional: true },
        responses: {
          200: ok('New tokens (only `token` and `record` for the access-token form).', authResult(record)),
        },
        problems: [401, 403],
      }),
    },
    [`${prefix}/auth-logout`]: {
      post: authOperation(scope, 'post', 'authLogout', {
        summary: `End the current session of a ${collection} record`,
        description: 'Its refresh token stops working; in cookie mode the cookies are cleared.',
        security: signedIn('post'),
        responses: { 204: { description: 'Signed out.' } },
      }),
    },
    [`${prefix}/auth-methods`]: {
      get: authOperation(scope, 'get', 'authMethods', {
        summary: `How records of ${collection} can sign in`,
        security: anonymous,
        responses: { 200: ok('The enabled ways to sign in.', ref('AuthMethods')) },
      }),
    },
    [`${prefix}/records/{id}/sessions`]: {
      parameters: [ref('RecordId', 'parameters')],
      get: authOperation(scope, 'get', 'listRecordSessions', {
        summary: `List the open sessions of a ${collection} record (superusers only)`,
        description:
          'The record’s own list is `GET /api/auth/sessions`. A record the caller cannot view answers 404.',
        security: signedIn('get'),
        responses: { 200: ok('The open sessions.', ref('RecordSessionList')) },
        problems: [400, 403, 404],
      }),
      delete: authOperation(scope, 'delete', 'revokeRecordSessions', {
        summary: `End every session of a ${collection} record (superusers only)`,
        description:
          'Their refresh tokens stop working; access tokens end with their short lifetime. Audited as `session_revoked` with the superuser as actor. Takes no body.',
        security: signedIn('delete'),
        responses: { 204: { description: 'Ended.' } },
        problems: [403, 404],
      }),
    },
    [`${prefix}/records/{id}/sessions/{sessionId}`]: {
      parameters: [
        ref('RecordId', 'parameters'),
        {
          name: 'sessionId',
          in: 'path',
          required: true,
          description: 'The id of the session.',
          schema: { type: 'string', format: 'uuid' },
        },
      ],
      delete: authOperation(scope, 'delete', 'revokeRecordSession', {
        summary: `End one session of a ${collection} record (superusers only)`,
        description:
          'Audited as `session_revoked` with the superuser as actor. A session of another record answers 404.',
        security: signedIn('delete'),
        responses: { 204: { description: 'Ended.' } },
        problems: [400, 403, 404],
      }),
    },
    [`${prefix}/impersonate/{id}`]: {
      parameters: [ref('RecordId', 'parameters')],
      post: authOperation(scope, 'post', 'impersonate', {
        summary: `Act as a record of ${collection} (superusers only)`,
        description:
          'A short token that cannot be refreshed; its session and the audit log name the superuser. A record the caller cannot view answers 404.',
        security: signedIn('post'),
        parameters: ['AuthMode'],
        body: { schema: ref('ImpersonationRequest'), isOptional: true },
        responses: { 200: ok('A token for the record.', authResult(record, { hasRefreshToken: false })) },
        problems: [403, 404],
      }),
    },
  }
}

/**
 * Every auth endpoint of one auth collection: sign-in and sessions, the email
 * flows, OAuth2 and second factors. `record` is the signed-in record's schema.
 */
export function authPaths(collection: CollectionDefinition, base: string, record: JsonSchema) {
  const scope: AuthScope = {
    prefix: `/api/collections/${collection.name}`,
    base,
    tags: [authTag(collection.name)],
    record,
  }
  return {
    ...sessionPaths(scope, collection.name),
    ...emailFlowPaths(scope, collection.name),
    // The settings of a system collection refuse every provider, so its OAuth2 endpoints could never succeed.
    ...(collection.system ? {} : oauth2Paths(scope, collection.name)),
    ...mfaPaths(scope, collection.name),
  }
}
