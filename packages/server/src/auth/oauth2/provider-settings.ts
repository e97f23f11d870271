import { type Static, Type } from '@sinclair/typebox'
import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../../collections/index.js'
import type { SecretBox } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import { type FieldErrors, ValidationError } from '../../errors/index.js'
import { type Preset, presetFor, presets } from './presets.js'

export const OAUTH2_PROVIDERS_TABLE = '_oauth2_providers'

// RFC 6749 §3.3: a scope token is printable ASCII without space, `"` or `\`.
const SCOPE = '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,200}$'

const providerInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 40 }),
    clientId: Type.String({ minLength: 1, maxLength: 500 }),
    clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    issuer: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    scopes: Type.Optional(Type.Array(Type.String({ pattern: SCOPE }), { minItems: 1, maxItems: 30 })),
    redirectURLs: Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { minItems: 1, maxItems: 20 }),
  },
  { additionalProperties: false },
)

/** Body of `PUT /api/collections/{c}/oauth2-providers`: the complete new settings. */
export const providerSettingsInput = Type.Object(
  { enabled: Type.Boolean(), providers: Type.Array(providerInput, { maxItems: 20 }) },
  { additionalProperties: false },
)

export type ProviderSettingsInput = Static<typeof providerSettingsInput>

/** A configured provider as stored: the client secret sealed with the instance secret. */
export interface StoredProvider {
  name: string
  clientId: string
  clientSecretSealed: string
  issuer: string | null
  displayName: string | null
  scopes: string[] | null
  redirectURLs: string[]
}

export interface ProviderSettings {
  enabled: boolean
  providers: StoredProvider[]
  /** Changes with every write; cached provider clients are keyed by it. */
  updated: string
}

/** A provider ready to use: its preset, resolved issuer and scopes, the secret opened. */
export interface ResolvedProvider {
  name: string
  preset: Preset
  clientId: string
  clientSecret: string
  issuer: string | null
  displayName: string
  scopes: string[]
  redirectURLs: string[]
  /** Identifies this exact configuration, so a change is never served from a cache. */
  version: string
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]'
}

/** https, or plain http to this machine only (tests and local development). */
function checkProviderUrl(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) {
    if (url.search || url.hash || url.username || url.password)
      return 'must not carry a query, fragment or credentials'
    return null
  }
  return 'must use https (http only for localhost)'
}

/**
 * Where a provider may send the user back to. Query and fragment are refused because
 * the token request repeats the URL without them, which the provider would reject.
 * Private-use schemes (`com.example.app:/cb`, RFC 8252 §7.1) serve native apps.
 */
function checkRedirectUrl(value: string): string | null {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.search || url.hash || url.username || url.password)
    return 'must not carry a query, fragment or credentials'
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:')
    return isLoopback(url.hostname) ? null : 'must use https (http only for localhost)'
  return /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/.test(url.protocol)
    ? null
    : 'must use https, or a reverse-domain scheme such as com.example.app:'
}

/** Checks the meaning of settings that passed the schema; seals new secrets. */
export function prepareSettings(
  collection: CollectionDefinition,
  input: ProviderSettingsInput,
  previous: ProviderSettings | null,
  box: SecretBox,
): Omit<ProviderSettings, 'updated'> {
  const errors: FieldErrors = {}
  const seen = new Set<string>()
  const providers: StoredProvider[] = []
  input.providers.forEach((provider, index) => {
    const at = (field: string) => `providers.${index}.${field}`
    const preset = presetFor(provider.name)
    if (!preset) {
      errors[at('name')] = { code: 'unknown_provider', message: `is not a known provider: ${provider.name}` }
      return
    }
    if (seen.has(provider.name)) errors[at('name')] = { code: 'duplicate', message: 'is configured twice' }
    seen.add(provider.name)
    if (provider.issuer !== undefined) {
      if (preset.kind !== 'oidc' || !preset.isIssuerConfigurable)
        errors[at('issuer')] = { code: 'unexpected', message: `is fixed for ${provider.name}` }
      else {
        const problem = checkProviderUrl(provider.issuer)
        if (problem) errors[at('issuer')] = { code: 'invalid_url', message: problem }
      }
    } else if (preset.kind === 'oidc' && preset.issuer === null)
      errors[at('issuer')] = {
        code: 'required',
        message: 'is required for a generic OpenID Connect provider',
      }
    if (preset.kind === 'oidc' && provider.scopes && !provider.scopes.includes('openid'))
      errors[at('scopes')] = { code: 'missing_openid', message: 'must include openid' }
    provider.redirectURLs.forEach((url, i) => {
      const problem = checkRedirectUrl(url)
      if (problem) errors[`${at('redirectURLs')}.${i}`] = { code: 'invalid_url', message: problem }
    })
    const kept = previous?.providers.find((p) => p.name === provider.name)?.clientSecretSealed
    if (provider.clientSecret === undefined && !kept)
      errors[at('clientSecret')] = { code: 'required', message: 'is required for a new provider' }
    providers.push({
      name: provider.name,
      clientId: provider.clientId,
      clientSecretSealed:
        provider.clientSecret !== undefined ? box.seal(provider.clientSecret) : (kept ?? ''),
      issuer: provider.issuer ?? null,
      displayName: provider.displayName ?? null,
      scopes: provider.scopes ?? null,
      redirectURLs: [...new Set(provider.redirectURLs)],
    })
  })
  if (collection.system)
    errors.collection = { code: 'unsupported', message: 'system collections cannot use OAuth2' }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors, 'The OAuth2 settings are not valid.')
  return { enabled: input.enabled, providers }
}

/**
 * The providers Plinth knows, so an editor offers exactly what a write accepts: `oidc` also
 * stands for `oidc-<label>`, the name of each further generic OpenID Connect provider.
 */
const knownProviders = Object.entries(presets).map(([name, preset]) => ({
  name,
  displayName: preset.displayName,
  kind: preset.kind,
  issuer: preset.kind === 'oidc' ? preset.issuer : null,
  isIssuerConfigurable: preset.kind === 'oidc' && preset.isIssuerConfigurable,
  scopes: preset.scopes,
}))

/** The settings as a superuser sees them: never the secret, only whether one is set. */
export function publicSettings(settings: ProviderSettings | null) {
  return {
    enabled: settings?.enabled ?? false,
    providers: (settings?.providers ?? []).map(({ clientSecretSealed, ...rest }) => ({
      ...rest,
      clientSecretSet: clientSecretSealed !== '',
    })),
    updated: settings?.updated ?? null,
    known: knownProviders,
  }
}

/** One row per auth collection holding its OAuth2 settings. */
export class ProviderSettingsStore {
  constructor(
    private readonly dialect: Dialect,
    private readonly box: SecretBox,
  ) {}

  async get(
    collection: CollectionDefinition,
    db: Kysely<any> = this.dialect.db,
  ): Promise<ProviderSettings | null> {
    const row = await db
      .selectFrom(OAUTH2_PROVIDERS_TABLE)
      .select(['enabled', 'providers', 'updated'])
      .where('collection_id', '=', collection.id)
      .executeTakeFirst()
    if (!row) return null
    return {
      enabled: Number(row.enabled) === 1,
      providers: JSON.parse(row.providers as string) as StoredProvider[],
      updated: row.updated as string,
    }
  }

  async put(collection: CollectionDefinition, input: ProviderSettingsInput): Promise<ProviderSettings> {
    return this.dialect.transaction(async (trx) => {
      const previous = await this.get(collection, trx)
      const prepared = prepareSettings(collection, input, previous, this.box)
      const settings: ProviderSettings = { ...prepared, updated: new Date().toISOString() }
      const values = {
        enabled: settings.enabled ? 1 : 0,
        providers: JSON.stringify(settings.providers),
        updated: settings.updated,
      }
      if (previous)
        await trx
          .updateTable(OAUTH2_PROVIDERS_TABLE)
          .set(values)
          .where('collection_id', '=', collection.id)
          .execute()
      else
        await trx
          .insertInto(OAUTH2_PROVIDERS_TABLE)
          .values({ collection_id: collection.id, ...values })
          .execute()
      return settings
    })
  }

  /** The enabled provider of that name, secret opened; null when unknown or OAuth2 is off. */
  async resolve(collection: CollectionDefinition, name: string): Promise<ResolvedProvider | null> {
    const settings = await this.get(collection)
    if (!settings?.enabled) return null
    const stored = settings.providers.find((p) => p.name === name)
    const preset = stored && presetFor(stored.name)
    if (!stored || !preset) return null
    return {
      name: stored.name,
      preset,
      clientId: stored.clientId,
      clientSecret: this.box.open(stored.clientSecretSealed),
      issuer: preset.kind === 'oidc' ? (stored.issuer ?? preset.issuer) : null,
      displayName: stored.displayName ?? preset.displayName,
      scopes: stored.scopes ?? [...preset.scopes],
      redirectURLs: stored.redirectURLs,
      version: `${collection.id}:${settings.updated}`,
    }
  }
}
