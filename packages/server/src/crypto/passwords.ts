import { hash, verify } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'

// OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
const options = { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 2 as const }

// bcrypt, as PocketBase (and PHP, with $2y$) writes it; imported users keep theirs until they sign in.
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/

export function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), options)
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    // bcrypt hashes were made elsewhere, from the password exactly as it was typed there.
    if (BCRYPT.test(stored)) return await bcrypt.compare(password, stored)
    return await verify(stored, password.normalize('NFC'))
  } catch {
    return false
  }
}

/** Whether a stored hash is not Plinth's own argon2id, so a sign-in that proved the password should replace it. */
export function needsRehash(stored: string): boolean {
  return BCRYPT.test(stored)
}

let dummyHash: Promise<string> | undefined

/**
 * Verifies against a throw-away hash, so an unknown identity costs the same time
 * as a wrong password and reveals nothing.
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('plinth-no-such-user')
  await verifyPassword(await dummyHash, password)
}
