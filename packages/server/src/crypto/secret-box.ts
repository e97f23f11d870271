import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Encrypts small secrets (signing keys, later TOTP and OAuth secrets) with a key
 * derived from the instance secret, so the database alone does not give them away
 * and every node holding the same secret can read them. AES-256-GCM.
 */
export class SecretBox {
  readonly #key: Buffer

  constructor(instanceSecret: string) {
    this.#key = Buffer.from(hkdfSync('sha256', instanceSecret, 'plinth', 'secret-box v1', 32))
  }

  seal(plain: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return [
      'v1',
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.')
  }

  open(sealed: string): string {
    const [version, iv, tag, body] = sealed.split('.')
    if (version !== 'v1' || !iv || !tag || !body) throw new Error('Not a sealed secret.')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
  }
}

/** The key file of the instance secret in a data folder, used when PLINTH_SECRET is not set. */
export function secretFile(dataDir: string): string {
  return join(dataDir, '.secret')
}

/** The configured secret, or the key file in the data folder, created (mode 0600) on first start. */
export function loadInstanceSecret(configured: string | null, dataDir: string): string {
  if (configured) return configured
  const path = secretFile(dataDir)
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' })
  }
  chmodSync(path, 0o600)
  return readFileSync(path, 'utf8').trim()
}
