import type { FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../../collections/index.js'
import { randomToken } from '../../crypto/index.js'
import { BadRequestError, ForbiddenError, PlinthError, ValidationError } from '../../errors/index.js'
import { anonymous, type Caller, superuser } from '../../identity/index.js'
import type { RecordService } from '../../records/index.js'
import type { AuditLog } from '../audit.js'
import type { SignIn, SignInResult } from '../sign-in.js'
import { type ExternalAuth, type ExternalAuthStore, externalAuthView } from './external-auths.js'
import type { ProviderProfile } from './presets.js'
import { type ProviderClient, ProviderError } from './provider-client.js'
import type { ProviderSettingsStore, ResolvedProvider } from './provider-settings.js'
import type { StateStore } from './states.js'

export interface OAuth2Completion {
  provider: string
  code: string
  state: string
  redirectURL: string
  iss?: string
  createData?: Record<string, unknown>
}

/** Fields the provider sets on a new record; `createData` may not name them. */
const PROVIDER_OWNED = ['email', 'password', 'passwordConfirm', 'verified']

function callerKey(caller: Caller): string | null {
  return caller.auth ? `${caller.auth.collection.id}/${caller.auth.record.id as string}` : null
}

function invalidState(): BadRequestError {
  return new BadRequestError(
    'The OAuth2 state is unknown, expired, already used, or belongs to another sign-in; start again.',
    'oauth2_invalid_state',
  )
}

function meta(provider: string, profile: ProviderProfile, isNew: boolean) {
  return { provider, ...profile, isNew }
}

export interface OAuth2SignInDependencies {
  db: Kysely<any>
  records: RecordService
  signIn: SignIn
  audit: AuditLog
  settings: ProviderSettingsStore
  states: StateStore
  externalAuths: ExternalAuthStore
  client: ProviderClient
}

/**
 * OAuth2 and OpenID Connect sign-in: `start` remembers the flow on the server and
 * gives the provider's URL; `complete` trades the code and signs in, links the
 * account to the signed-in caller, or creates a record.
 */
export class OAuth2SignIn {
  constructor(private readonly deps: OAuth2SignInDependencies) {}

  async start(
    caller: Caller,
    collection: CollectionDefinition,
    request: { provider: string; redirectURL: string },
  ): Promise<{ provider: string; authURL: string; state: string }> {
    this.assertCallerFits(caller, collection)
    const provider = await this.provider(collection, request.provider, request.redirectURL)
    // 32 random bytes each, as RFC 7636 recommends for the verifier.
    const codeVerifier = randomToken(32)
    const nonce = randomToken(32)
    const state = await this.deps.states.create({
      collectionId: collection.id,
      provider: provider.name,
      redirectURL: request.redirectURL,
      codeVerifier,
      nonce,
      caller: callerKey(caller),
    })
    const authURL = await this.providerCall(() =>
      this.deps.client.authorizationURL(provider, {
        redirectURL: request.redirectURL,
        state,
        nonce,
        codeVerifier,
      }),
    )
    return { provider: provider.name, authURL, state }
  }

  async complete(request: FastifyRequest, collection: CollectionDefinition, body: OAuth2Completion) {
    const caller = request.caller
    this.assertCallerFits(caller, collection)
    const createData = body.createData ?? {}
    const owned = PROVIDER_OWNED.filter((name) => Object.hasOwn(createData, name))
    if (owned.length > 0)
      throw new ValidationError(
        Object.fromEntries(
          owned.map((name) => [
            `createData.${name}`,
            { code: 'read_only', message: 'is set from the provider' },
          ]),
        ),
      )
    const provider = await this.provider(collection, body.provider, body.redirectURL)
    const pending = await this.deps.states.consume(body.state)
    if (
      !pending ||
      pending.collectionId !== collection.id ||
      pending.provider !== provider.name ||
      pending.redirectURL !== body.redirectURL ||
      pending.caller !== callerKey(caller)
    )
      throw invalidState()
    let profile: ProviderProfile
    try {
      profile = await this.providerCall(() =>
        this.deps.client.exchange(provider, pending, { code: body.code, state: body.state, iss: body.iss }),
      )
    } catch (error) {
      await this.deps.audit.record({
        event: 'sign_in_failed',
        collectionId: collection.id,
        recordId: caller.auth ? (caller.auth.record.id as string) : null,
        ip: request.ip,
        detail: { method: 'oauth2', provider: provider.name },
      })
      throw error
    }
    if (caller.auth) return this.linkToCaller(request, collection, caller, provider, profile)
    const { recordId, isNew } = await this.findOrCreate(collection, provider, profile, createData)
    const record = await this.deps.db
      .selectFrom(collection.name)
      .select('verified')
      .where('id', '=', recordId)
      .executeTakeFirst()
    if (collection.options.onlyVerified === true && !record?.verified)
      throw new ForbiddenError('Verify your email address before signing in.')
    const result: SignInResult | { mfaId: string } = await this.deps.signIn.complete(
      request,
      collection,
      recordId,
      'oauth2',
    )
    return { ...result, meta: meta(provider.name, profile, isNew) }
  }

  /** A bearer of another collection (a superuser, say) cannot start or finish this collection's flow. */
  private assertCallerFits(caller: Caller, collection: CollectionDefinition): void {
    if (caller.auth && caller.auth.collection.id !== collection.id)
      throw new ForbiddenError('Sign in to this collection, or send no token, to use its OAuth2 providers.')
  }

  private async provider(
    collection: CollectionDefinition,
    name: string,
    redirectURL: string,
  ): Promise<ResolvedProvider> {
    const provider = await this.deps.settings.resolve(collection, name)
    if (!provider)
      throw new ValidationError({
        provider: { code: 'unknown_provider', message: 'is not enabled for this collection' },
      })
    // The allow-list is the protection against open redirects: only exact matches.
    if (!provider.redirectURLs.includes(redirectURL))
      throw new ValidationError({
        redirectURL: { code: 'not_allowed', message: "is not in the provider's list of redirect URLs" },
      })
    return provider
  }

  private async providerCall<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error
      if (error.isUnavailable) throw new PlinthError(502, 'oauth2_provider_unavailable', error.message)
      throw new BadRequestError(error.message, 'oauth2_failed')
    }
  }

  private async linkToCaller(
    request: FastifyRequest,
    collection: CollectionDefinition,
    caller: Caller,
    provider: ResolvedProvider,
    profile: ProviderProfile,
  ) {
    const recordId = caller.auth!.record.id as string
    const existing = await this.deps.externalAuths.find(collection.id, provider.name, profile.id)
    let link: ExternalAuth
    if (existing) {
      if (existing.recordId !== recordId)
        throw new BadRequestError(
          'This provider account is linked to another record.',
          'oauth2_already_linked',
        )
      link = existing
    } else {
      const own = await this.deps.externalAuths.list(collection.id, recordId)
      if (own.some((l) => l.provider === provider.name))
        throw new BadRequestError(
          `Another ${provider.displayName} account is linked already; unlink it first.`,
          'oauth2_already_linked',
        )
      link = await this.deps.externalAuths.link({
        collectionId: collection.id,
        recordId,
        provider: provider.name,
        providerUserId: profile.id,
      })
      await this.deps.audit.record({
        event: 'oauth2_linked',
        collectionId: collection.id,
        recordId,
        ip: request.ip,
        detail: { provider: provider.name },
      })
    }
    return { externalAuth: externalAuthView(link), meta: meta(provider.name, profile, false) }
  }

  /**
   * The linked record; else the record with the same email when the provider vouches
   * for that address; else a new record, if the create rule lets anyone sign up.
   */
  private async findOrCreate(
    collection: CollectionDefinition,
    provider: ResolvedProvider,
    profile: ProviderProfile,
    createData: Record<string, unknown>,
  ): Promise<{ recordId: string; isNew: boolean }> {
    const { db, externalAuths, records } = this.deps
    const linked = await externalAuths.find(collection.id, provider.name, profile.id)
    if (linked) return { recordId: linked.recordId, isNew: false }
    const email = profile.email?.normalize('NFC') ?? null
    const existing = email
      ? await db
          .selectFrom(collection.name)
          .select(['id', 'verified'])
          .where('email', '=', email)
          .executeTakeFirst()
      : undefined
    if (existing) {
      // An unverified address proves nothing: linking on it would hand the record to
      // whoever typed that address at the provider.
      if (!profile.emailVerified)
        throw new BadRequestError(
          'A record with this email exists, and the provider has not verified the address. Sign in to that record and link the provider there.',
          'oauth2_account_exists',
        )
      const recordId = existing.id as string
      await externalAuths.link({
        collectionId: collection.id,
        recordId,
        provider: provider.name,
        providerUserId: profile.id,
      })
      // The record was never proven to belong to the address's owner: whoever created
      // it may know its password. The provider proved ownership now, so the record
      // becomes verified and that password stops working (and its sessions end).
      if (!existing.verified) {
        const password = randomToken(32)
        await records.update(superuser, collection.name, recordId, {
          verified: true,
          password,
          passwordConfirm: password,
        })
      }
      return { recordId, isNew: false }
    }
    if (collection.createRule === null)
      throw new ForbiddenError('This collection does not allow signing up; ask for an account first.')
    if (!email) throw new BadRequestError('The provider did not share an email address.', 'oauth2_failed')
    const password = randomToken(32)
    // Created as the anonymous caller it is, so the create rule judges it like any sign-up.
    const recordId = await records.batch(anonymous, async (scope) => {
      const created = await scope.create(collection.name, {
        ...createData,
        email,
        password,
        passwordConfirm: password,
      })
      const id = created.record.id as string
      await externalAuths.link(
        { collectionId: collection.id, recordId: id, provider: provider.name, providerUserId: profile.id },
        scope.db,
      )
      return id
    })
    if (profile.emailVerified) await records.update(superuser, collection.name, recordId, { verified: true })
    return { recordId, isNew: true }
  }
}
