import {
  authWithMfaBody,
  authWithPasskeyBody,
  confirmEmailChangeBody,
  emailAddressBody,
  emailChangeBody,
  emailTokenBody,
  MAX_API_KEY_NAME_LENGTH,
  MAX_API_KEY_SCOPES,
  MAX_IMPERSONATION_SECONDS,
  oauth2CompleteBody,
  oauth2StartBody,
  otpSignInBody,
  passkeyOptionsBody,
  passkeyRegistrationBody,
  passwordResetBody,
  passwordSignInBody,
  providerSettingsInput,
  recordOperations,
  secondFactorProofBody,
  setupBody,
  totpCodeBody,
} from '../auth/index.js'
import type { JsonSchema } from './document-context.js'

const secret = { format: 'password', writeOnly: true }

/**
 * A body schema the route validates with, plus what only a reader needs: a
 * description, and notes per property. The constraints stay the route's own.
 */
function described(
  schema: JsonSchema,
  description: string,
  notes: Record<string, JsonSchema> = {},
): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema>
  return {
    ...schema,
    description,
    properties: Object.fromEntries(
      Object.entries(properties).map(([name, property]) => [name, { ...property, ...notes[name] }]),
    ),
  }
}

/** The request bodies of the auth endpoints, by component name. */
export const authRequestSchemas: Record<string, JsonSchema> = {
  PasswordSignIn: described(passwordSignInBody, 'Sign-in with an identity and a password.', {
    identity: {
      description:
        'The email address, or the value of another identity field the collection names in `options.identityFields` (such as a username).',
    },
    password: secret,
  }),
  RefreshRequest: {
    type: 'object',
    description:
      'The refresh token from the last sign-in or refresh; it is spent. In cookie mode the body is left out and the refresh cookie is read; left out with an access token in Authorization, the access token is refreshed instead.',
    properties: { refreshToken: { type: 'string', minLength: 1, maxLength: 200, ...secret } },
    additionalProperties: false,
  },
  ImpersonationRequest: {
    type: 'object',
    properties: {
      duration: {
        type: 'integer',
        minimum: 60,
        maximum: MAX_IMPERSONATION_SECONDS,
        default: 900,
        description: 'How long the token lives, in seconds.',
      },
    },
    additionalProperties: false,
  },
  SetupRequest: described(setupBody, 'The first superuser.', {
    token: { description: 'From the setup link in the log.' },
    email: { format: 'email' },
    password: secret,
    passwordConfirm: secret,
  }),
  EmailAddress: described(emailAddressBody, 'The address to send the mail to.', {
    email: { format: 'email' },
  }),
  EmailToken: described(emailTokenBody, 'The token from the link in the mail.'),
  PasswordResetConfirmation: described(passwordResetBody, 'The token from the mail and the new password.', {
    password: secret,
    passwordConfirm: secret,
  }),
  EmailChangeRequest: described(emailChangeBody, 'The new address; the confirmation link goes there.', {
    newEmail: { format: 'email' },
  }),
  EmailChangeConfirmation: described(
    confirmEmailChangeBody,
    'The token from the mail, and the current password.',
    { password: secret },
  ),
  OtpSignIn: described(otpSignInBody, 'The id from request-otp and the code from the mail.', {
    password: { description: 'The one-time code.', ...secret },
  }),
  OAuth2Start: described(oauth2StartBody, 'Which provider, and where it sends the user back to.', {
    redirectURL: { description: "Exactly one of the provider's configured redirect URLs." },
  }),
  OAuth2Completion: described(
    oauth2CompleteBody,
    'What the provider appended to the redirect URL, with the same provider and redirect URL as request-oauth2.',
    {
      createData: {
        description:
          'Fields for a record created by this sign-in (not email, password or verified, which come from the provider).',
      },
    },
  ),
  OAuth2ProviderSettingsInput: described(
    providerSettingsInput,
    'The complete new OAuth2 settings of the collection. A provider without clientSecret keeps the stored one.',
  ),
  TotpCode: described(totpCodeBody, 'The current code of the authenticator app.'),
  SecondFactorProof: described(
    secondFactorProofBody,
    'Exactly one of a current TOTP code or an unused recovery code.',
  ),
  MfaSignIn: described(
    authWithMfaBody,
    'The challenge from the first sign-in step and exactly one of code, recoveryCode or passkey.',
    { passkey: { description: 'An AuthenticationResponseJSON from navigator.credentials.get().' } },
  ),
  PasskeyOptionsRequest: {
    ...passkeyOptionsBody,
    description:
      'No body (or `{}`) for a passwordless sign-in; `{mfaId}` for a passkey as the second factor.',
  },
  PasskeyRegistration: described(
    passkeyRegistrationBody,
    'The answer of navigator.credentials.create() to the registration options.',
    { response: { description: 'A RegistrationResponseJSON.' }, name: { default: 'Passkey' } },
  ),
  PasskeySignIn: described(
    authWithPasskeyBody,
    'The answer of navigator.credentials.get() to the authentication options.',
    { response: { description: 'An AuthenticationResponseJSON.' } },
  ),
  ApiKeyCreate: {
    type: 'object',
    description: 'A new API key of the signed-in record.',
    properties: {
      name: { type: 'string', minLength: 1, maxLength: MAX_API_KEY_NAME_LENGTH },
      scopes: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_API_KEY_SCOPES,
        description: 'What the key may do; the rules of each collection apply on top.',
        items: {
          type: 'object',
          properties: {
            collection: { type: 'string', description: 'A collection name, or `*` for all.' },
            operations: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: [...recordOperations] },
            },
          },
          required: ['collection', 'operations'],
          additionalProperties: false,
        },
      },
      expires: {
        type: 'string',
        description: 'An ISO 8601 date or date-time, at most a year ahead (the default).',
      },
    },
    required: ['name', 'scopes'],
    additionalProperties: false,
  },
}
