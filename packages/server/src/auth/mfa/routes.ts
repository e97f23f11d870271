import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { CollectionDefinition } from '../../collections/index.js'
import { BadRequestError, ForbiddenError, NotFoundError, UnauthorizedError } from '../../errors/index.js'
import type { RecordService } from '../../records/index.js'
import type { AuditLog } from '../audit.js'
import { requireRecentSignIn } from '../recent-sign-in.js'
import type { SignIn } from '../sign-in.js'
import type { MfaService } from './mfa-service.js'
import {
  authWithMfaBody,
  authWithPasskeyBody,
  codeBody,
  passkeyOptionsBody,
  proofBody,
  proofOf,
  registerVerifyBody,
} from './schemas.js'
import type { FactorOwner } from './totp.js'

export interface MfaRoutesOptions {
  mfa: MfaService
  records: RecordService
  signIn: SignIn
  audit: AuditLog
  /** Seconds since sign-in within which factors may be added or removed (`PLINTH_REAUTH_WINDOW`). */
  reauthWindow: number
}

type Params = { collection: string }

// Actions without input still refuse a body with fields: a typo must not pass silently.
const noBody = Type.Union([Type.Null(), Type.Object({}, { additionalProperties: false })])

/**
 * Second factors of the signed-in record (TOTP, recovery codes, passkeys), the MFA step
 * of sign-in and passwordless sign-in with a passkey.
 *
 * @example
 * await app.register(mfaRoutes, { mfa: auth.mfa, records, signIn: auth.signIn, audit: auth.audit, reauthWindow: 600 })
 */
export async function mfaRoutes(app: FastifyInstance, options: MfaRoutesOptions): Promise<void> {
  const { mfa, records, signIn, audit, reauthWindow } = options
  const base = '/api/collections/:collection'

  function authCollection(name: string): CollectionDefinition {
    const collection = records.collection(name)
    if (collection.type !== 'auth') throw new NotFoundError('auth collection')
    return collection
  }

  /** Factors are managed by the record itself, signed in, in its own collection. */
  function ownerOf(request: FastifyRequest<{ Params: Params }>): {
    collection: CollectionDefinition
    owner: FactorOwner
  } {
    const collection = authCollection(request.params.collection)
    const { auth, session, apiKey } = request.caller
    if (apiKey) throw new ForbiddenError('An API key cannot manage second factors; sign in.')
    if (!auth || !session) throw new UnauthorizedError('Sign in to manage your second factors.')
    if (auth.collection.id !== collection.id)
      throw new ForbiddenError('Second factors are managed by the signed-in record of this collection.')
    // A superuser looking through a user's eyes must not change how that user signs in.
    if (session.impersonatedBy)
      throw new ForbiddenError('An impersonation session cannot change second factors.')
    return { collection, owner: { collectionId: collection.id, recordId: auth.record.id as string } }
  }

  /** The owner, for a change to how it signs in: that needs a recent sign-in, not only a valid token. */
  function changingOwnerOf(request: FastifyRequest<{ Params: Params }>) {
    const found = ownerOf(request)
    requireRecentSignIn(request.caller, reauthWindow)
    return found
  }

  function accountName(request: FastifyRequest): string {
    const record = request.caller.auth!.record
    return typeof record.email === 'string' && record.email !== '' ? record.email : (record.id as string)
  }

  app.get<{ Params: Params }>(`${base}/mfa`, async function mfaStatus(request) {
    const { collection, owner } = ownerOf(request)
    return mfa.status(collection, owner)
  })

  app.post<{ Params: Params }>(
    `${base}/mfa/totp/setup`,
    { schema: { body: noBody } },
    async function setupTotp(request) {
      const { owner } = changingOwnerOf(request)
      return mfa.setupTotp(owner, accountName(request))
    },
  )

  app.post<{ Params: Params; Body: Static<typeof codeBody> }>(
    `${base}/mfa/totp/confirm`,
    { schema: { body: codeBody } },
    async function confirmTotp(request) {
      const { owner } = changingOwnerOf(request)
      return { recoveryCodes: await mfa.confirmTotp(owner, request.body.code, request.ip) }
    },
  )

  app.delete<{ Params: Params; Body: Static<typeof proofBody> }>(
    `${base}/mfa/totp`,
    { schema: { body: proofBody } },
    async function disableTotp(request, reply) {
      const { collection, owner } = changingOwnerOf(request)
      if (!(await mfa.totp.isEnabled(owner))) throw new NotFoundError('TOTP enrolment')
      await mfa.disableTotp(collection, owner, proofOf(request.body ?? {}), request.ip)
      return reply.code(204).send()
    },
  )

  app.post<{ Params: Params; Body: Static<typeof proofBody> }>(
    `${base}/mfa/recovery-codes`,
    { schema: { body: proofBody } },
    async function replaceRecoveryCodes(request) {
      const { collection, owner } = changingOwnerOf(request)
      const proof = proofOf(request.body ?? {})
      return { recoveryCodes: await mfa.replaceRecoveryCodes(collection, owner, proof, request.ip) }
    },
  )

  app.post<{ Params: Params; Body: Static<typeof authWithMfaBody> }>(
    `${base}/auth-with-mfa`,
    { schema: { body: authWithMfaBody } },
    async function authWithMfa(request) {
      const collection = authCollection(request.params.collection)
      const proof = proofOf(request.body)
      const { recordId, method } = await mfa.pass(collection, request.body.mfaId, proof, request.ip)
      return signIn.issue(request, collection, recordId, method)
    },
  )

  app.get<{ Params: Params }>(`${base}/passkeys`, async function listPasskeys(request) {
    const { owner } = ownerOf(request)
    const items = await mfa.passkeys.list(owner)
    return { items, page: 1, perPage: items.length, totalItems: items.length, totalPages: 1 }
  })

  app.delete<{ Params: Params & { id: string } }>(
    `${base}/passkeys/:id`,
    async function removePasskey(request, reply) {
      const { owner } = changingOwnerOf(request)
      // Another record's passkey answers like a missing one.
      if (!(await mfa.passkeys.remove(owner, request.params.id))) throw new NotFoundError('passkey')
      await audit.record({
        event: 'passkey_removed',
        collectionId: owner.collectionId,
        recordId: owner.recordId,
        ip: request.ip,
        detail: { passkey: request.params.id },
      })
      return reply.code(204).send()
    },
  )

  app.post<{ Params: Params }>(
    `${base}/passkeys/register/options`,
    { schema: { body: noBody } },
    async function passkeyRegistrationOptions(request) {
      const { owner } = changingOwnerOf(request)
      const name = accountName(request)
      return mfa.passkeys.registrationOptions(owner, { name, displayName: name })
    },
  )

  app.post<{ Params: Params; Body: Static<typeof registerVerifyBody> }>(
    `${base}/passkeys/register/verify`,
    { schema: { body: registerVerifyBody } },
    async function registerPasskey(request, reply) {
      const { owner } = changingOwnerOf(request)
      const response = request.body.response as RegistrationResponseJSON
      const passkey = await mfa.passkeys.register(owner, response, request.body.name ?? 'Passkey')
      if (!passkey)
        throw new BadRequestError('The passkey could not be verified; start again.', 'invalid_credentials')
      await audit.record({
        event: 'passkey_added',
        collectionId: owner.collectionId,
        recordId: owner.recordId,
        ip: request.ip,
        detail: { passkey: passkey.id },
      })
      return reply.code(201).send(passkey)
    },
  )

  app.post<{ Params: Params; Body: Static<typeof passkeyOptionsBody> }>(
    `${base}/passkeys/auth/options`,
    { schema: { body: passkeyOptionsBody } },
    async function passkeyAuthenticationOptions(request) {
      const collection = authCollection(request.params.collection)
      const mfaId = request.body?.mfaId
      return mfaId
        ? mfa.passkeyOptionsFor(collection, mfaId)
        : mfa.passkeys.authenticationOptions(collection.id)
    },
  )

  app.post<{ Params: Params; Body: Static<typeof authWithPasskeyBody> }>(
    `${base}/auth-with-passkey`,
    { schema: { body: authWithPasskeyBody } },
    async function authWithPasskey(request) {
      const collection = authCollection(request.params.collection)
      const recordId = await mfa.passwordless(collection, request.body.response as AuthenticationResponseJSON)
      if (!recordId) {
        await audit.record({
          event: 'sign_in_failed',
          collectionId: collection.id,
          ip: request.ip,
          detail: { method: 'passkey' },
        })
        throw new BadRequestError('The passkey could not be verified.', 'invalid_credentials')
      }
      return signIn.complete(request, collection, recordId, 'passkey')
    },
  )
}
