import { hash, verify } from '@node-rs/argon2'

// OWASP's argon2id recommendation: m=19 MiB, t=2, p=1.
const options = { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 2 as const }

export function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), options)
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password.normalize('NFC'))
  } catch {
    return false
  }
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
