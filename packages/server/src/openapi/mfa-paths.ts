import { type AuthScope, authOperation, authResult, recentSignInNote } from './auth-scope.js'
import { type JsonSchema, ref } from './document-context.js'
import { ok } from './operations.js'
import { anonymous, signedIn } from './security-schemes.js'

const ownerNote =
  'Acts on the signed-in record of this collection. A record of another collection, a superuser, an API key or an impersonation session gets 403.'
const changeNote = `${recentSignInNote} ${ownerNote}`

/** Second factors of the signed-in record, the MFA step of sign-in, and passkey sign-in. */
export function mfaPaths(scope: AuthScope, collection: string): Record<string, JsonSchema> {
  const { prefix } = scope
  const body = (name: string) => ({ schema: ref(name) })
  return {
    [`${prefix}/mfa`]: {
      get: authOperation(scope, 'get', 'viewMfa', {
        summary: `The second factors of the signed-in ${collection} record`,
        description: ownerNote,
        security: signedIn('get'),
        responses: { 200: ok('What is enrolled.', ref('MfaStatus')) },
        problems: [403],
      }),
    },
    [`${prefix}/mfa/totp/setup`]: {
      post: authOperation(scope, 'post', 'setupTotp', {
        summary: `Start enrolling TOTP for the signed-in ${collection} record`,
        description: `A new setup replaces a pending one; while TOTP is on the answer is 409. ${changeNote}`,
        security: signedIn('post'),
        responses: { 200: ok('A pending enrolment.', ref('TotpSetup')) },
        problems: [403, 409],
      }),
    },
    [`${prefix}/mfa/totp/confirm`]: {
      post: authOperation(scope, 'post', 'confirmTotp', {
        summary: `Turn TOTP on for the signed-in ${collection} record with a first code`,
        description: `Without a pending setup the answer is 404. ${changeNote}`,
        security: signedIn('post'),
        body: body('TotpCode'),
        responses: { 200: ok('TOTP is on; the recovery codes, shown this once.', ref('RecoveryCodes')) },
        problems: [403, 404],
      }),
    },
    [`${prefix}/mfa/totp`]: {
      delete: authOperation(scope, 'delete', 'disableTotp', {
        summary: `Turn TOTP off for the signed-in ${collection} record`,
        description: `Needs a current code or a recovery code; the recovery codes go too. ${changeNote}`,
        security: signedIn('delete'),
        body: body('SecondFactorProof'),
        responses: { 204: { description: 'TOTP is off.' } },
        problems: [403, 404],
      }),
    },
    [`${prefix}/mfa/recovery-codes`]: {
      post: authOperation(scope, 'post', 'replaceRecoveryCodes', {
        summary: `Replace the recovery codes of the signed-in ${collection} record`,
        description: `Needs TOTP on, and a current code or a recovery code; the old codes stop working. ${changeNote}`,
        security: signedIn('post'),
        body: body('SecondFactorProof'),
        responses: { 200: ok('The new codes, shown this once.', ref('RecoveryCodes')) },
        problems: [403],
      }),
    },
    [`${prefix}/auth-with-mfa`]: {
      post: authOperation(scope, 'post', 'authWithMfa', {
        summary: `Finish a ${collection} sign-in with the second factor`,
        description:
          'The `mfaId` from the first step lives 5 minutes and takes 5 wrong answers; after that it answers 401 and the user signs in again.',
        security: anonymous,
        parameters: ['AuthMode'],
        body: body('MfaSignIn'),
        responses: { 200: ok('Signed in.', authResult(scope.record)) },
        problems: [401, 403],
      }),
    },
    [`${prefix}/passkeys`]: {
      get: authOperation(scope, 'get', 'listPasskeys', {
        summary: `List the passkeys of the signed-in ${collection} record`,
        description: ownerNote,
        security: signedIn('get'),
        responses: { 200: ok('The passkeys.', ref('PasskeyList')) },
        problems: [403],
      }),
    },
    [`${prefix}/passkeys/{id}`]: {
      parameters: [ref('PasskeyId', 'parameters')],
      delete: authOperation(scope, 'delete', 'removePasskey', {
        summary: `Remove a passkey of the signed-in ${collection} record`,
        description: `Another record's passkey answers 404. ${changeNote}`,
        security: signedIn('delete'),
        responses: { 204: { description: 'Removed.' } },
        problems: [403, 404],
      }),
    },
    [`${prefix}/passkeys/register/options`]: {
      post: authOperation(scope, 'post', 'passkeyRegistrationOptions', {
        summary: `Start registering a passkey for the signed-in ${collection} record`,
        description: `A record holds at most 20 passkeys. ${changeNote}`,
        security: signedIn('post'),
        responses: { 200: ok('Options for the browser.', ref('PasskeyCreationOptions')) },
        problems: [403],
      }),
    },
    [`${prefix}/passkeys/register/verify`]: {
      post: authOperation(scope, 'post', 'registerPasskey', {
        summary: `Finish registering a passkey for the signed-in ${collection} record`,
        description: changeNote,
        security: signedIn('post'),
        body: body('PasskeyRegistration'),
        responses: { 201: ok('The new passkey.', ref('Passkey')) },
        problems: [403],
      }),
    },
    [`${prefix}/passkeys/auth/options`]: {
      post: authOperation(scope, 'post', 'passkeyAuthenticationOptions', {
        summary: `Start a passkey sign-in to ${collection}, or a passkey second factor`,
        description:
          'Without `mfaId` the browser offers any passkey of this site; with it, the passkeys of the record that is signing in. An ended `mfaId` answers 401.',
        security: anonymous,
        body: { schema: ref('PasskeyOptionsRequest'), isOptional: true },
        responses: { 200: ok('Options for the browser.', ref('PasskeyRequestOptions')) },
        problems: [401],
      }),
    },
    [`${prefix}/auth-with-passkey`]: {
      post: authOperation(scope, 'post', 'authWithPasskey', {
        summary: `Sign in to ${collection} with a passkey, without a password`,
        description:
          'A passkey with user verification counts as two factors, so no further step follows. A collection with `onlyVerified` refuses unverified records with 403.',
        security: anonymous,
        parameters: ['AuthMode'],
        body: body('PasskeySignIn'),
        responses: { 200: ok('Signed in.', authResult(scope.record, { mayNeedEnrollment: true })) },
        problems: [403],
      }),
    },
  }
}
