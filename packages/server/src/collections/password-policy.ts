import type { CollectionDefinition } from './types.js'

/** `options.passwordPolicy` of an auth collection: what a new password must look like. */
export interface PasswordPolicy {
  minLength?: number
  maxLength?: number
  requireLetter?: boolean
  /** At least one upper-case and one lower-case letter. */
  requireMixedCase?: boolean
  requireDigit?: boolean
  /** At least one character that is neither a letter nor a digit (a space counts). */
  requireSymbol?: boolean
}

// NIST SP 800-63B asks for at least 8 characters; 256 bounds the work of hashing a request.
export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 256

export const passwordRequirements = [
  'requireLetter',
  'requireMixedCase',
  'requireDigit',
  'requireSymbol',
] as const

export const passwordPolicyKeys = ['minLength', 'maxLength', ...passwordRequirements] as const

type Requirement = (typeof passwordRequirements)[number]

// Unicode classes, so passwords in any script can meet them.
const requirementTests: Record<Requirement, { test: (password: string) => boolean; lacks: string }> = {
  requireLetter: { test: (p) => /\p{L}/u.test(p), lacks: 'a letter' },
  requireMixedCase: {
    test: (p) => /\p{Lu}/u.test(p) && /\p{Ll}/u.test(p),
    lacks: 'an upper-case and a lower-case letter',
  },
  requireDigit: { test: (p) => /\p{Nd}/u.test(p), lacks: 'a digit' },
  requireSymbol: { test: (p) => /[^\p{L}\p{N}]/u.test(p), lacks: 'a symbol (neither letter nor digit)' },
}

export interface PasswordProblem {
  code: string
  message: string
}

/** The collection's policy with every default filled in. */
export function passwordPolicyOf(collection: CollectionDefinition): Required<PasswordPolicy> {
  const policy = collection.options.passwordPolicy ?? {}
  return {
    minLength: policy.minLength ?? MIN_PASSWORD_LENGTH,
    maxLength: policy.maxLength ?? MAX_PASSWORD_LENGTH,
    requireLetter: policy.requireLetter === true,
    requireMixedCase: policy.requireMixedCase === true,
    requireDigit: policy.requireDigit === true,
    requireSymbol: policy.requireSymbol === true,
  }
}

/**
 * What a new password of the collection lacks, or null when it meets the policy.
 * Lengths count characters (code points), as the policy's options are written.
 * The one place every new password is checked: sign-up, password change, reset
 * and passwords a superuser sets all write through the records service.
 */
export function passwordProblem(collection: CollectionDefinition, password: string): PasswordProblem | null {
  const policy = passwordPolicyOf(collection)
  const length = [...password].length
  if (length < policy.minLength)
    return { code: 'too_short', message: `must be at least ${policy.minLength} characters` }
  if (length > policy.maxLength)
    return { code: 'too_long', message: `must be at most ${policy.maxLength} characters` }
  if (password.trim() === '') return { code: 'too_weak', message: 'must not be blank' }
  const lacking = passwordRequirements
    .filter((requirement) => policy[requirement] && !requirementTests[requirement].test(password))
    .map((requirement) => requirementTests[requirement].lacks)
  if (lacking.length > 0) return { code: 'too_weak', message: `must contain ${listed(lacking)}` }
  return null
}

/** A password equal to the account's email address is the first guess of any attacker. */
export function emailAsPasswordProblem(password: string, email: unknown): PasswordProblem | null {
  return typeof email === 'string' && password.trim().toLowerCase() === email.trim().toLowerCase()
    ? { code: 'too_weak', message: 'must not be the email address' }
    : null
}

function listed(items: string[]): string {
  return items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}
