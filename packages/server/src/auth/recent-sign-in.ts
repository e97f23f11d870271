import { PlinthError } from '../errors/index.js'
import type { Caller } from '../identity/index.js'

/**
 * Changes that would let someone keep hold of an account (a new second factor, fresh recovery
 * codes, a lasting API key) need a sign-in within the last `windowSeconds`, not just a valid
 * access token: a stolen token must not be enough to lock the owner out or stay in. A refresh
 * keeps the time of the sign-in, and an impersonation session has none, so neither counts.
 */
export function requireRecentSignIn(caller: Caller, windowSeconds: number, now = Date.now()): void {
  const signedInAt = caller.session?.signedInAt ?? null
  if (signedInAt !== null && now - signedInAt <= windowSeconds * 1000) return
  throw new PlinthError(
    403,
    'reauthentication_required',
    `This change needs a sign-in within the last ${describe(windowSeconds)}; sign in again and retry.`,
  )
}

function describe(seconds: number): string {
  if (seconds % 60 !== 0) return `${seconds} seconds`
  const minutes = seconds / 60
  return minutes === 1 ? '1 minute' : `${minutes} minutes`
}
