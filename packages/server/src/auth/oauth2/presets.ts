/** What Plinth keeps of a provider account: enough to find, link or create a record. */
export interface ProviderProfile {
  id: string
  email: string | null
  /** Only a provider's explicit statement counts; anything else is unverified. */
  emailVerified: boolean
  name: string | null
  avatarURL: string | null
}

interface PresetBase {
  displayName: string
  scopes: string[]
  /** Extra authorization request parameters the provider needs. */
  authParameters?: (scopes: string[]) => Record<string, string>
}

/** An OpenID Connect provider: endpoints by discovery, identity from the signed ID token. */
export interface OidcPreset extends PresetBase {
  kind: 'oidc'
  /** The issuer when the configuration names none; null means the configuration must. */
  issuer: string | null
  /** Whether a configured `issuer` may replace the default (tenants, self-hosted instances). */
  isIssuerConfigurable: boolean
}

/** A plain OAuth2 provider: fixed endpoints, identity from its own API. */
export interface OAuth2Preset extends PresetBase {
  kind: 'oauth2'
  authorizationEndpoint: string
  tokenEndpoint: string
  fetchProfile(accessToken: string, fetcher: typeof fetch): Promise<ProviderProfile>
}

export type Preset = OidcPreset | OAuth2Preset

async function getJson(fetcher: typeof fetch, url: string, accessToken: string): Promise<unknown> {
  const response = await fetcher(url, {
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/json',
      // GitHub refuses API calls without a User-Agent.
      'user-agent': 'plinth',
    },
    redirect: 'error',
    signal: AbortSignal.timeout(10_000),
  })
  if (!response.ok) throw new ProfileError(`${new URL(url).host} answered ${response.status}`)
  return response.json()
}

/** The provider's API did not give a usable profile. */
export class ProfileError extends Error {}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null
}

/** GitHub's `/user` and `/user/emails` answers; only the primary, verified address is trusted. */
export function githubProfile(user: unknown, emails: unknown): ProviderProfile {
  const u = (user ?? {}) as Record<string, unknown>
  if (typeof u.id !== 'number' && typeof u.id !== 'string') throw new ProfileError('GitHub gave no user id')
  const list = Array.isArray(emails) ? (emails as Record<string, unknown>[]) : []
  const primary = list.find((e) => e.primary === true) ?? null
  return {
    id: String(u.id),
    email: text(primary?.email)?.toLowerCase() ?? null,
    emailVerified: primary?.verified === true,
    name: text(u.name) ?? text(u.login),
    avatarURL: text(u.avatar_url),
  }
}

/** Discord's `/users/@me` answer. */
export function discordProfile(user: unknown): ProviderProfile {
  const u = (user ?? {}) as Record<string, unknown>
  const id = text(u.id)
  if (!id) throw new ProfileError('Discord gave no user id')
  const avatar = text(u.avatar)
  return {
    id,
    email: text(u.email)?.toLowerCase() ?? null,
    emailVerified: u.verified === true,
    name: text(u.global_name) ?? text(u.username),
    avatarURL: avatar ? `https://cdn.discordapp.com/avatars/${id}/${avatar}.png` : null,
  }
}

const oidcScopes = ['openid', 'email', 'profile']

/** Every provider Plinth knows by name. `oidc` (and `oidc-<label>`) is the generic one. */
export const presets = {
  oidc: {
    kind: 'oidc',
    displayName: 'OpenID Connect',
    issuer: null,
    isIssuerConfigurable: true,
    scopes: oidcScopes,
  },
  google: {
    kind: 'oidc',
    displayName: 'Google',
    issuer: 'https://accounts.google.com',
    isIssuerConfigurable: false,
    scopes: oidcScopes,
  },
  microsoft: {
    kind: 'oidc',
    displayName: 'Microsoft',
    // Multi-tenant; openid-client accepts the tenant-specific issuer this document announces.
    issuer: 'https://login.microsoftonline.com/common/v2.0',
    isIssuerConfigurable: true,
    scopes: oidcScopes,
  },
  apple: {
    kind: 'oidc',
    displayName: 'Apple',
    issuer: 'https://appleid.apple.com',
    isIssuerConfigurable: false,
    scopes: ['openid', 'email', 'name'],
    // Apple only returns to the app by form POST when name or email is asked for.
    authParameters: (scopes): Record<string, string> =>
      scopes.includes('email') || scopes.includes('name') ? { response_mode: 'form_post' } : {},
  },
  gitlab: {
    kind: 'oidc',
    displayName: 'GitLab',
    issuer: 'https://gitlab.com',
    isIssuerConfigurable: true,
    scopes: oidcScopes,
  },
  github: {
    kind: 'oauth2',
    displayName: 'GitHub',
    authorizationEndpoint: 'https://github.com/login/oauth/authorize',
    tokenEndpoint: 'https://github.com/login/oauth/access_token',
    scopes: ['read:user', 'user:email'],
    async fetchProfile(accessToken, fetcher) {
      const [user, emails] = await Promise.all([
        getJson(fetcher, 'https://api.github.com/user', accessToken),
        getJson(fetcher, 'https://api.github.com/user/emails', accessToken),
      ])
      return githubProfile(user, emails)
    },
  },
  discord: {
    kind: 'oauth2',
    displayName: 'Discord',
    authorizationEndpoint: 'https://discord.com/oauth2/authorize',
    tokenEndpoint: 'https://discord.com/api/oauth2/token',
    scopes: ['identify', 'email'],
    async fetchProfile(accessToken, fetcher) {
      return discordProfile(await getJson(fetcher, 'https://discord.com/api/users/@me', accessToken))
    },
  },
} as const satisfies Record<string, Preset>

export type PresetName = keyof typeof presets

const GENERIC = /^oidc(?:-[a-z0-9]{1,30})?$/

/** The preset a configured provider name stands for, or null for an unknown name. */
export function presetFor(name: string): Preset | null {
  if (GENERIC.test(name)) return presets.oidc
  return Object.hasOwn(presets, name) ? presets[name as PresetName] : null
}
