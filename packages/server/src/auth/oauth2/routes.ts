import { Type } from '@sinclair/typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { type CollectionDefinition, identityFieldsOf } from '../../collections/index.js'
import type { SecretBox } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import { NotFoundError, UnauthorizedError } from '../../errors/index.js'
import { requireSuperuser } from '../../identity/index.js'
import type { RecordService } from '../../records/index.js'
import type { AuditLog } from '../audit.js'
import type { SignIn } from '../sign-in.js'
import { ExternalAuthStore, externalAuthView } from './external-auths.js'
import { type OAuth2Completion, OAuth2SignIn } from './oauth2-sign-in.js'
import { presetFor } from './presets.js'
import { ProviderClient } from './provider-client.js'
import {
  type ProviderSettingsInput,
  ProviderSettingsStore,
  providerSettingsInput,
  publicSettings,
} from './provider-settings.js'
import { StateStore } from './states.js'

export interface OAuth2RoutesOptions {
  dialect: Dialect
  box: SecretBox
  records: RecordService
  signIn: SignIn
  audit: AuditLog
}

const providerName = Type.String({ minLength: 1, maxLength: 40 })
const redirectURL = Type.String({ minLength: 1, maxLength: 2000 })

export const startBody = Type.Object({ provider: providerName, redirectURL }, { additionalProperties: false })

export const completeBody = Type.Object(
  {
    provider: providerName,
    code: Type.String({ minLength: 1, maxLength: 2000 }),
    state: Type.String({ minLength: 1, maxLength: 200 }),
    redirectURL,
    iss: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    createData: Type.Optional(Type.Object({}, { additionalProperties: true, maxProperties: 100 })),
  },
  { additionalProperties: false },
)

type CollectionParams = { Params: { collection: string } }

/**
 * `auth-methods`, the OAuth2 sign-in (`request-oauth2` then `auth-with-oauth2`),
 * provider settings for superusers and each record's linked accounts.
 */
export async function oauth2Routes(app: FastifyInstance, options: OAuth2RoutesOptions): Promise<void> {
  const { dialect, box, records, signIn, audit } = options
  const db = dialect.db
  const settings = new ProviderSettingsStore(dialect, box)
  const externalAuths = new ExternalAuthStore(db)
  const oauth2 = new OAuth2SignIn({
    db,
    records,
    signIn,
    audit,
    settings,
    states: new StateStore(db, box),
    externalAuths,
    client: new ProviderClient(),
  })

  function authCollection(name: string): CollectionDefinition {
    const collection = records.collection(name)
    if (collection.type !== 'auth') throw new NotFoundError('auth collection')
    return collection
  }

  /** The record's owner or a superuser; anyone else learns nothing about the record. */
  function ownedRecord(request: FastifyRequest<{ Params: { collection: string; id: string } }>) {
    const collection = authCollection(request.params.collection)
    const { caller } = request
    if (!caller.auth && !caller.isSuperuser) throw new UnauthorizedError('Sign in to see linked accounts.')
    const isOwner =
      caller.auth?.collection.id === collection.id && caller.auth.record.id === request.params.id
    if (!isOwner && !caller.isSuperuser) throw new NotFoundError()
    return collection
  }

  app.get<CollectionParams>('/api/collections/:collection/auth-methods', async function authMethods(request) {
    const collection = authCollection(request.params.collection)
    const stored = await settings.get(collection)
    const isOAuth2Enabled = stored?.enabled === true && stored.providers.length > 0
    return {
      password: { enabled: true, identityFields: identityFieldsOf(collection) },
      oauth2: {
        enabled: isOAuth2Enabled,
        providers: isOAuth2Enabled
          ? stored.providers.map((p) => ({
              name: p.name,
              displayName: p.displayName ?? presetFor(p.name)?.displayName ?? p.name,
            }))
          : [],
      },
      otp: { enabled: collection.options.otp?.enabled === true },
      // Every auth collection offers TOTP and passkeys; `required` is options.mfa.required.
      mfa: { enabled: true, required: collection.options.mfa?.required === true },
      passkey: { enabled: true },
    }
  })

  app.post<CollectionParams & { Body: { provider: string; redirectURL: string } }>(
    '/api/collections/:collection/request-oauth2',
    { schema: { body: startBody } },
    async function requestOAuth2(request) {
      return oauth2.start(request.caller, authCollection(request.params.collection), request.body)
    },
  )

  app.post<CollectionParams & { Body: OAuth2Completion }>(
    '/api/collections/:collection/auth-with-oauth2',
    { schema: { body: completeBody } },
    async function authWithOAuth2(request) {
      return oauth2.complete(request, authCollection(request.params.collection), request.body)
    },
  )

  app.get<CollectionParams>(
    '/api/collections/:collection/oauth2-providers',
    async function getProviders(request) {
      requireSuperuser(request.caller, 'read OAuth2 settings')
      return publicSettings(await settings.get(authCollection(request.params.collection)))
    },
  )

  app.put<CollectionParams & { Body: ProviderSettingsInput }>(
    '/api/collections/:collection/oauth2-providers',
    { schema: { body: providerSettingsInput } },
    async function putProviders(request) {
      requireSuperuser(request.caller, 'change OAuth2 settings')
      return publicSettings(await settings.put(authCollection(request.params.collection), request.body))
    },
  )

  app.get<{ Params: { collection: string; id: string } }>(
    '/api/collections/:collection/records/:id/external-auths',
    async function listExternalAuths(request) {
      const collection = ownedRecord(request)
      const items = (await externalAuths.list(collection.id, request.params.id)).map(externalAuthView)
      return { items, page: 1, perPage: items.length, totalItems: items.length, totalPages: 1 }
    },
  )

  app.delete<{ Params: { collection: string; id: string; provider: string } }>(
    '/api/collections/:collection/records/:id/external-auths/:provider',
    async function unlinkExternalAuth(request, reply) {
      const collection = ownedRecord(request)
      if (!(await externalAuths.unlink(collection.id, request.params.id, request.params.provider)))
        throw new NotFoundError('linked account')
      await audit.record({
        event: 'oauth2_unlinked',
        collectionId: collection.id,
        recordId: request.params.id,
        actor: request.caller.isSuperuser ? (request.caller.auth?.record.id as string) : null,
        ip: request.ip,
        detail: { provider: request.params.provider },
      })
      return reply.code(204).send()
    },
  )
}
