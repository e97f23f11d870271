// Loaded on the first password to hash or check: the native addon's loading was about 10 ms of
// every start, and a server that serves no sign-in never needs it.
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined
const loadArgon2 = () => (argon2 ??= import('@node-rs/argon2'))

// OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
const options = { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 2 as const }

// bcrypt, as PocketBase (and PHP, with $2y$) writes it; imported users keep theirs until they sign in.
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/

export async function hashPassword(password: string): Promise<string> {
  const { hash } = await loadArgon2()
  return hash(password.normalize('NFC'), options)
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    // bcrypt hashes were made elsewhere, from the password exactly as it was typed there.
    if (BCRYPT.test(stored)) {
      const bcrypt = await import('bcryptjs')
      return await bcrypt.compare(password, stored)
    }
    const { verify } = await loadArgon2()
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
