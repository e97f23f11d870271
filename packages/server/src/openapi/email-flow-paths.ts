import { type AuthScope, authOperation, signInResult } from './auth-scope.js'
import { type JsonSchema, ref } from './document-context.js'
import { ok } from './operations.js'
import { anonymous, signedIn } from './security-schemes.js'

const body = (name: string) => ({ schema: ref(name) })
const sameAnswer =
  'The answer is the same whether the address belongs to a record or not, so nothing is revealed.'

/** Verification, password reset, email change and one-time-code sign-in of one auth collection. */
export function emailFlowPaths(scope: AuthScope, collection: string): Record<string, JsonSchema> {
  const { prefix } = scope
  return {
    [`${prefix}/request-verification`]: {
      post: authOperation(scope, 'post', 'requestVerification', {
        summary: `Mail a verification link to a ${collection} record`,
        description: `Sent only to an unverified record. ${sameAnswer}`,
        security: anonymous,
        body: body('EmailAddress'),
        responses: { 204: { description: 'Accepted.' } },
      }),
    },
    [`${prefix}/confirm-verification`]: {
      post: authOperation(scope, 'post', 'confirmVerification', {
        summary: `Mark a ${collection} record verified with the token from its mail`,
        description: 'The token is single use and valid for 72 hours.',
        security: anonymous,
        body: body('EmailToken'),
        responses: { 204: { description: 'Verified.' } },
      }),
    },
    [`${prefix}/request-password-reset`]: {
      post: authOperation(scope, 'post', 'requestPasswordReset', {
        summary: `Mail a password reset link to a ${collection} record`,
        description: sameAnswer,
        security: anonymous,
        body: body('EmailAddress'),
        responses: { 204: { description: 'Accepted.' } },
      }),
    },
    [`${prefix}/confirm-password-reset`]: {
      post: authOperation(scope, 'post', 'confirmPasswordReset', {
        summary: `Set a new password for a ${collection} record with the token from its mail`,
        description: 'The token is single use and valid for 1 hour. Every session of the record ends.',
        security: anonymous,
        body: body('PasswordResetConfirmation'),
        responses: { 204: { description: 'The password is changed.' } },
      }),
    },
    [`${prefix}/request-email-change`]: {
      post: authOperation(scope, 'post', 'requestEmailChange', {
        summary: `Mail a link that changes the signed-in ${collection} record's email address`,
        description: 'The link goes to the new address. Needs a session of this collection, not an API key.',
        security: signedIn('post'),
        body: body('EmailChangeRequest'),
        responses: { 204: { description: 'The link is sent.' } },
        problems: [403],
      }),
    },
    [`${prefix}/confirm-email-change`]: {
      post: authOperation(scope, 'post', 'confirmEmailChange', {
        summary: `Change a ${collection} record's email address with the token from the mail`,
        description: 'The token is single use and valid for 1 hour; the current password confirms it.',
        security: anonymous,
        body: body('EmailChangeConfirmation'),
        responses: { 204: { description: 'The address is changed.' } },
      }),
    },
    [`${prefix}/request-otp`]: {
      post: authOperation(scope, 'post', 'requestOtp', {
        summary: `Mail a one-time sign-in code to a ${collection} record`,
        description: `Needs the collection option \`otp.enabled\`. ${sameAnswer} Codes live 10 minutes and take 5 tries.`,
        security: anonymous,
        body: body('EmailAddress'),
        responses: { 200: ok('The id to send with the code.', ref('OtpRequested')) },
      }),
    },
    [`${prefix}/auth-with-otp`]: {
      post: authOperation(scope, 'post', 'authWithOtp', {
        summary: `Sign in to ${collection} with a one-time code`,
        description:
          'Answers tokens, or `{mfaId}` when the record has a second factor. The code proves the address, so the record becomes verified.',
        security: anonymous,
        parameters: ['AuthMode'],
        body: body('OtpSignIn'),
        responses: { 200: ok('Signed in, or a second factor is due.', signInResult(scope.record)) },
      }),
    },
  }
}
