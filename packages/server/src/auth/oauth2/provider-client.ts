import type * as OpenIdClient from 'openid-client'
import { ProfileError, type ProviderProfile } from './presets.js'
import type { ResolvedProvider } from './provider-settings.js'
import type { PendingSignIn } from './states.js'

/** Discovery documents and signing keys change rarely; an hour keeps rotations visible. */
const CONFIGURATION_TTL_MS = 60 * 60 * 1000

/**
 * The provider refused (a spent or foreign code, a failed ID token check), or could
 * not be reached. The first is the caller's problem, the second the provider's.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly isUnavailable: boolean,
  ) {
    super(message)
    this.name = 'ProviderError'
  }
}

type Client = typeof OpenIdClient
let loading: Promise<Client> | undefined

/** openid-client loads with the first OAuth2 sign-in: most servers never start one. */
function openIdClient(): Promise<Client> {
  loading ??= import('openid-client')
  return loading
}

const UNAVAILABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM'])

function providerError(client: Client, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error
  if (error instanceof client.ResponseBodyError)
    return new ProviderError(`The provider rejected the request: ${error.error}.`, false)
  if (error instanceof client.AuthorizationResponseError)
    return new ProviderError(`The provider answered with an error: ${error.error}.`, false)
  if (error instanceof ProfileError)
    return new ProviderError(`The provider's profile API failed: ${error.message}.`, true)
  if (error instanceof client.ClientError) {
    const unavailable = UNAVAILABLE_CODES.has(error.code ?? '')
    return new ProviderError(
      unavailable
        ? 'The provider could not be reached.'
        : `The provider's answer failed validation: ${error.message}.`,
      unavailable,
    )
  }
  // fetch() reports refused connections and DNS failures as a TypeError with a cause.
  if (error instanceof TypeError && error.cause !== undefined)
    return new ProviderError('The provider could not be reached.', true)
  throw error
}

function isLoopbackHttp(url: string): boolean {
  const { protocol, hostname } = new URL(url)
  return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname)
}

function claimString(claims: Record<string, unknown>, name: string): string | null {
  const value = claims[name]
  return typeof value === 'string' && value !== '' ? value : null
}

/** Profiles from OpenID claims; Apple sends `email_verified` as the string "true". */
function oidcProfile(claims: Record<string, unknown>): ProviderProfile {
  const verified = claims.email_verified
  return {
    id: String(claims.sub),
    email: claimString(claims, 'email')?.toLowerCase() ?? null,
    emailVerified: verified === true || verified === 'true',
    name: claimString(claims, 'name') ?? claimString(claims, 'preferred_username'),
    avatarURL: claimString(claims, 'picture'),
  }
}

/**
 * Talks to providers through openid-client: discovery, PKCE (S256), state and, for
 * OpenID providers, nonce and the full ID token validation (signature, issuer,
 * audience, expiry). Plain OAuth2 presets use the same code with fixed endpoints.
 */
export class ProviderClient {
  readonly #configurations = new Map<
    string,
    { expires: number; configuration: Promise<OpenIdClient.Configuration> }
  >()

  async authorizationURL(
    provider: ResolvedProvider,
    request: { redirectURL: string; state: string; nonce: string; codeVerifier: string },
  ): Promise<string> {
    const client = await openIdClient()
    const configuration = await this.configuration(client, provider)
    const parameters: Record<string, string> = {
      redirect_uri: request.redirectURL,
      scope: provider.scopes.join(' '),
      state: request.state,
      code_challenge: await client.calculatePKCECodeChallenge(request.codeVerifier),
      code_challenge_method: 'S256',
      ...provider.preset.authParameters?.(provider.scopes),
    }
    if (provider.preset.kind === 'oidc') parameters.nonce = request.nonce
    return client.buildAuthorizationUrl(configuration, parameters).href
  }

  /** Trades the code for tokens and reads who signed in. */
  async exchange(
    provider: ResolvedProvider,
    pending: PendingSignIn,
    response: { code: string; state: string; iss?: string },
  ): Promise<ProviderProfile> {
    const client = await openIdClient()
    try {
      const configuration = await this.configuration(client, provider)
      const callback = new URL(pending.redirectURL)
      callback.searchParams.set('code', response.code)
      callback.searchParams.set('state', response.state)
      // RFC 9207 guards against mix-ups by naming the issuer in the response. The state
      // is bound to one provider on the server already, so an app that does not forward
      // `iss` is not exposed; one that does has it checked.
      const issuer = response.iss ?? configuration.serverMetadata().issuer
      if (configuration.serverMetadata().authorization_response_iss_parameter_supported)
        callback.searchParams.set('iss', issuer)
      const preset = provider.preset
      const tokens = await client.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: response.state,
        ...(preset.kind === 'oidc' ? { expectedNonce: pending.nonce, idTokenExpected: true } : {}),
      })
      if (preset.kind === 'oauth2') return await preset.fetchProfile(tokens.access_token, fetch)
      const claims = tokens.claims() as Record<string, unknown>
      const profile = oidcProfile(claims)
      if (profile.email !== null || !configuration.serverMetadata().userinfo_endpoint) return profile
      const info = await client.fetchUserInfo(configuration, tokens.access_token, profile.id)
      return oidcProfile({ ...info, sub: profile.id })
    } catch (error) {
      throw providerError(client, error)
    }
  }

  private configuration(client: Client, provider: ResolvedProvider): Promise<OpenIdClient.Configuration> {
    const key = `${provider.version}:${provider.name}`
    const cached = this.#configurations.get(key)
    if (cached && cached.expires > Date.now()) return cached.configuration
    const configuration = this.build(client, provider).catch((error) => {
      this.#configurations.delete(key)
      throw providerError(client, error)
    })
    this.#configurations.set(key, { expires: Date.now() + CONFIGURATION_TTL_MS, configuration })
    return configuration
  }

  private async build(client: Client, provider: ResolvedProvider): Promise<OpenIdClient.Configuration> {
    const preset = provider.preset
    if (preset.kind === 'oauth2') {
      return new client.Configuration(
        {
          issuer: new URL(preset.authorizationEndpoint).origin,
          authorization_endpoint: preset.authorizationEndpoint,
          token_endpoint: preset.tokenEndpoint,
        },
        provider.clientId,
        undefined,
        client.ClientSecretPost(provider.clientSecret),
      )
    }
    const issuer = provider.issuer!
    const basic = client.ClientSecretBasic(provider.clientSecret)
    const post = client.ClientSecretPost(provider.clientSecret)
    // OpenID Connect Discovery: a provider that lists no methods supports client_secret_basic.
    const auth: OpenIdClient.ClientAuth = (server, metadata, body, headers) => {
      const methods = server.token_endpoint_auth_methods_supported ?? ['client_secret_basic']
      return (methods.includes('client_secret_basic') ? basic : post)(server, metadata, body, headers)
    }
    return client.discovery(new URL(issuer), provider.clientId, undefined, auth, {
      execute: isLoopbackHttp(issuer) ? [client.allowInsecureRequests] : [],
      timeout: 10,
    })
  }
}
