import { type AuthScope, authOperation, signInResult } from './auth-scope.js'
import { type JsonSchema, ref } from './document-context.js'
import { ok } from './operations.js'
import { optionallySignedIn, signedIn } from './security-schemes.js'

const callerNote =
  'Without a token it signs in (or signs up); with a token of this collection it links the provider account to the caller instead. A token of another collection answers 403.'

/** OAuth2 sign-in, provider settings and linked accounts of one auth collection. */
export function oauth2Paths(scope: AuthScope, collection: string): Record<string, JsonSchema> {
  const { prefix } = scope
  const meta = { meta: ref('OAuth2Profile') }
  return {
    [`${prefix}/request-oauth2`]: {
      post: authOperation(scope, 'post', 'requestOAuth2', {
        summary: `Start an OAuth2 sign-in to ${collection}`,
        description: `Answers the provider URL to send the user to. PKCE, state and nonce are kept on the server. ${callerNote}`,
        security: optionallySignedIn('post'),
        body: { schema: ref('OAuth2Start') },
        responses: { 200: ok('Where to send the user.', ref('OAuth2Redirect')) },
        problems: [403, 502],
      }),
    },
    [`${prefix}/auth-with-oauth2`]: {
      post: authOperation(scope, 'post', 'authWithOAuth2', {
        summary: `Finish an OAuth2 sign-in to ${collection} with the code from the provider`,
        description: `A provider account signs in to its linked record, else to the record with the same email if the provider verified it, else to a new record if the create rule allows sign-up. ${callerNote}`,
        security: optionallySignedIn('post'),
        parameters: ['AuthMode'],
        body: { schema: ref('OAuth2Completion') },
        responses: {
          200: ok('Signed in, a second factor is due, or the account is linked.', {
            oneOf: [...(signInResult(scope.record, meta).oneOf as JsonSchema[]), ref('OAuth2Link')],
          }),
        },
        problems: [403, 502],
      }),
    },
    [`${prefix}/oauth2-providers`]: {
      get: authOperation(scope, 'get', 'viewOAuth2Providers', {
        summary: `View the OAuth2 providers of ${collection} (superusers only)`,
        security: signedIn('get'),
        responses: { 200: ok('The settings, without secrets.', ref('OAuth2ProviderSettings')) },
        problems: [403],
      }),
      put: authOperation(scope, 'put', 'updateOAuth2Providers', {
        summary: `Replace the OAuth2 providers of ${collection} (superusers only)`,
        description: 'Client secrets are stored encrypted and never returned.',
        security: signedIn('put'),
        body: { schema: ref('OAuth2ProviderSettingsInput') },
        responses: { 200: ok('The saved settings, without secrets.', ref('OAuth2ProviderSettings')) },
      }),
    },
    [`${prefix}/records/{id}/external-auths`]: {
      parameters: [ref('RecordId', 'parameters')],
      get: authOperation(scope, 'get', 'listExternalAuths', {
        summary: `List the provider accounts linked to a ${collection} record`,
        description: 'The record itself or a superuser; anyone else gets 404.',
        security: signedIn('get'),
        responses: { 200: ok('The linked accounts.', ref('ExternalAuthList')) },
        problems: [404],
      }),
    },
    [`${prefix}/records/{id}/external-auths/{provider}`]: {
      parameters: [ref('RecordId', 'parameters'), ref('Provider', 'parameters')],
      delete: authOperation(scope, 'delete', 'unlinkExternalAuth', {
        summary: `Unlink a provider account from a ${collection} record`,
        description: 'The record itself or a superuser; anyone else gets 404.',
        security: signedIn('delete'),
        responses: { 204: { description: 'Unlinked.' } },
        problems: [404],
      }),
    },
  }
}
