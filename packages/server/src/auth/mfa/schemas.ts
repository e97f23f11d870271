import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import { Type } from '@sinclair/typebox'
import { ValidationError } from '../../errors/index.js'
import type { SecondFactorProof } from './mfa-service.js'

const base64url = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' })

const totpCode = Type.String({ pattern: '^[0-9]{6}$' })
const recoveryCode = Type.String({ minLength: 1, maxLength: 40 })
const mfaIdSchema = Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' })

// Browsers add fields of their own to these objects (publicKeyAlgorithm, extensions),
// so only the ones read here are checked; the top level of each body stays strict.
const openObject = { additionalProperties: true }

const authenticationResponse = Type.Object(
  {
    id: base64url(1400),
    rawId: base64url(1400),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: base64url(8192),
        authenticatorData: base64url(8192),
        signature: base64url(2048),
        userHandle: Type.Optional(Type.Union([base64url(400), Type.Null()])),
      },
      openObject,
    ),
    clientExtensionResults: Type.Object({}, openObject),
    authenticatorAttachment: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  },
  openObject,
)

const registrationResponse = Type.Object(
  {
    id: base64url(1400),
    rawId: base64url(1400),
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: base64url(8192),
        attestationObject: base64url(65536),
        transports: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 10 })),
      },
      openObject,
    ),
    clientExtensionResults: Type.Object({}, openObject),
    authenticatorAttachment: Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Null()])),
  },
  openObject,
)

export const codeBody = Type.Object({ code: totpCode }, { additionalProperties: false })

/** A code or a recovery code, for actions a signed-in record confirms with its second factor. */
export const proofBody = Type.Object(
  { code: Type.Optional(totpCode), recoveryCode: Type.Optional(recoveryCode) },
  { additionalProperties: false },
)

export const authWithMfaBody = Type.Object(
  {
    mfaId: mfaIdSchema,
    code: Type.Optional(totpCode),
    recoveryCode: Type.Optional(recoveryCode),
    passkey: Type.Optional(authenticationResponse),
  },
  { additionalProperties: false },
)

export const passkeyOptionsBody = Type.Union([
  Type.Null(),
  Type.Object({ mfaId: Type.Optional(mfaIdSchema) }, { additionalProperties: false }),
])

export const registerVerifyBody = Type.Object(
  { response: registrationResponse, name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
)

export const authWithPasskeyBody = Type.Object(
  { response: authenticationResponse },
  { additionalProperties: false },
)

/** The one proof a body carries; two or none is a 400 naming the fields. */
export function proofOf(body: {
  code?: string
  recoveryCode?: string
  passkey?: unknown
}): SecondFactorProof {
  const given = (['code', 'recoveryCode', 'passkey'] as const).filter((key) => body[key] !== undefined)
  if (given.length !== 1) {
    const error = { code: 'one_proof', message: 'send exactly one of code, recoveryCode or passkey' }
    const names = given.length === 0 ? ['code'] : given
    throw new ValidationError(
      Object.fromEntries(names.map((name) => [name, error])),
      'Send exactly one second factor.',
    )
  }
  if (body.code !== undefined) return { code: body.code }
  if (body.recoveryCode !== undefined) return { recoveryCode: body.recoveryCode }
  return { passkey: body.passkey as AuthenticationResponseJSON }
}
