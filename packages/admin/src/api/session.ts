import { api, csrfToken } from './client'
import type { RecordModel } from './types'

const SUPERUSERS = '/api/collections/_superusers'
/**
 * Which superuser this browser signed in as: an id for the app to greet, never a token
 * (those stay in HttpOnly cookies the page cannot read).
 */
const SIGNED_IN_AS = 'plinth-admin:superuser'

export type Superuser = RecordModel & { email: string }

export type PasswordSignIn = { kind: 'signedIn'; superuser: Superuser } | { kind: 'mfa'; mfaId: string }

export type SecondFactor = { code: string } | { recoveryCode: string }

function remember(answer: { record: Superuser }): Superuser {
  localStorage.setItem(SIGNED_IN_AS, answer.record.id)
  return answer.record
}

/**
 * The superuser of this browser's session, or null when there is none. The record is read
 * through the API, which also proves that the session is alive (refreshing it if needed).
 */
export async function currentSuperuser(): Promise<Superuser | null> {
  const id = localStorage.getItem(SIGNED_IN_AS)
  if (!id || csrfToken() === null) return null
  try {
    return await api<Superuser>(`${SUPERUSERS}/records/${encodeURIComponent(id)}`)
  } catch {
    return null
  }
}

/** The first superuser, from the one-time token of the setup link; the answer signs in. */
export async function completeSetup(input: {
  token: string
  email: string
  password: string
  passwordConfirm: string
}): Promise<Superuser> {
  return remember(
    await api<{ record: Superuser }>('/api/setup', {
      method: 'POST',
      body: input,
      asksForCookies: true,
      refreshesOn401: false,
    }),
  )
}

/** The first step: a superuser with a second factor gets an MFA challenge instead of a session. */
export async function signInWithPassword(identity: string, password: string): Promise<PasswordSignIn> {
  const answer = await api<{ record?: Superuser; mfaId?: string }>(`${SUPERUSERS}/auth-with-password`, {
    method: 'POST',
    body: { identity, password },
    asksForCookies: true,
    refreshesOn401: false,
  })
  if (answer.mfaId) return { kind: 'mfa', mfaId: answer.mfaId }
  return { kind: 'signedIn', superuser: remember(answer as { record: Superuser }) }
}

/** Answers an MFA challenge with a TOTP code or a recovery code. */
export async function completeMfa(mfaId: string, factor: SecondFactor): Promise<Superuser> {
  return remember(
    await api<{ record: Superuser }>(`${SUPERUSERS}/auth-with-mfa`, {
      method: 'POST',
      body: { mfaId, ...factor },
      asksForCookies: true,
      refreshesOn401: false,
    }),
  )
}

/**
 * Asks the browser for a passkey of this site and signs in with it: alone (no `mfaId`) or
 * as the second factor of a password sign-in.
 */
export async function signInWithPasskey(mfaId?: string): Promise<Superuser> {
  const [{ startAuthentication }, optionsJSON] = await Promise.all([
    import('@simplewebauthn/browser'),
    api<Parameters<typeof import('@simplewebauthn/browser').startAuthentication>[0]['optionsJSON']>(
      `${SUPERUSERS}/passkeys/auth/options`,
      { method: 'POST', body: mfaId ? { mfaId } : undefined, refreshesOn401: false },
    ),
  ])
  const response = await startAuthentication({ optionsJSON })
  const answer = await api<{ record: Superuser }>(
    mfaId ? `${SUPERUSERS}/auth-with-mfa` : `${SUPERUSERS}/auth-with-passkey`,
    {
      method: 'POST',
      body: mfaId ? { mfaId, passkey: response } : { response },
      asksForCookies: true,
      refreshesOn401: false,
    },
  )
  return remember(answer)
}

/** Ends the session on the server, which clears the cookies. */
export async function signOut(): Promise<void> {
  try {
    await api(`${SUPERUSERS}/auth-logout`, { method: 'POST', refreshesOn401: false })
  } finally {
    localStorage.removeItem(SIGNED_IN_AS)
  }
}
