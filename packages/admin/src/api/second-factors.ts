import { api } from './client'
import type { SecondFactor } from './session'
import type { Passkey, TotpSetup } from './types'

const SUPERUSERS = '/api/collections/_superusers'

/** A new TOTP secret for the signed-in superuser; TOTP is on only once a code confirms it. */
export function setUpTotp(): Promise<TotpSetup> {
  return api<TotpSetup>(`${SUPERUSERS}/mfa/totp/setup`, { method: 'POST' })
}

/** Turns TOTP on with a code of the app; answers the recovery codes, which are never shown again. */
export async function confirmTotp(code: string): Promise<string[]> {
  const answer = await api<{ recoveryCodes: string[] }>(`${SUPERUSERS}/mfa/totp/confirm`, {
    method: 'POST',
    body: { code },
  })
  return answer.recoveryCodes
}

export function turnOffTotp(proof: SecondFactor): Promise<void> {
  return api<void>(`${SUPERUSERS}/mfa/totp`, { method: 'DELETE', body: proof })
}

/** Replaces every recovery code; the old ones stop working. */
export async function replaceRecoveryCodes(proof: SecondFactor): Promise<string[]> {
  const answer = await api<{ recoveryCodes: string[] }>(`${SUPERUSERS}/mfa/recovery-codes`, {
    method: 'POST',
    body: proof,
  })
  return answer.recoveryCodes
}

/**
 * What a person typed to prove their second factor: six digits are a code of the app,
 * anything else a recovery code (those are `xxxxx-xxxxx` letters).
 */
export function proofOf(typed: string): SecondFactor {
  const digits = typed.replace(/\s/g, '')
  return /^[0-9]{6}$/.test(digits) ? { code: digits } : { recoveryCode: typed.trim() }
}

/** Asks the browser to make a passkey for this site and registers it under `name`. */
export async function addPasskey(name: string): Promise<Passkey> {
  const [{ startRegistration }, optionsJSON] = await Promise.all([
    import('@simplewebauthn/browser'),
    api<Parameters<typeof import('@simplewebauthn/browser').startRegistration>[0]['optionsJSON']>(
      `${SUPERUSERS}/passkeys/register/options`,
      { method: 'POST' },
    ),
  ])
  const response = await startRegistration({ optionsJSON })
  return api<Passkey>(`${SUPERUSERS}/passkeys/register/verify`, {
    method: 'POST',
    body: { response, name },
  })
}

export function removePasskey(id: string): Promise<void> {
  return api<void>(`${SUPERUSERS}/passkeys/${encodeURIComponent(id)}`, { method: 'DELETE' })
}
