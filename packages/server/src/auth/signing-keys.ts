import { randomUUID, type webcrypto } from 'node:crypto'
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import type { Kysely } from 'kysely'
import type { SecretBox } from '../crypto/index.js'

type CryptoKey = webcrypto.CryptoKey

export const KEYS_TABLE = '_keys'

export interface SigningKey {
  kid: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  publicJwk: JWK
}

/** How long a retired key still verifies: longer than any access token it signed can live. */
export const RETIRED_KEY_GRACE_SECONDS = 24 * 60 * 60
// Another node may have rotated: an unknown kid reloads the keys, but not more often than this.
const RELOAD_INTERVAL_MS = 5000

/**
 * Ed25519 signing keys, kept in the database and sealed with the instance secret,
 * so every node of a cluster signs and verifies with the same keys.
 */
export class SigningKeys {
  #current: SigningKey | undefined
  #byKid = new Map<string, SigningKey>()
  #lastLoad = 0

  constructor(
    private readonly db: Kysely<any>,
    private readonly box: SecretBox,
  ) {}

  /** Loads the keys, creating the first one when there is none. */
  async load(): Promise<void> {
    let rows = await this.rows()
    if (!rows.some((row) => row.retired === null)) {
      await this.create()
      rows = await this.rows()
    }
    const byKid = new Map<string, SigningKey>()
    for (const row of rows) {
      const privateJwk = JSON.parse(this.box.open(row.private_sealed as string)) as JWK
      const publicJwk = JSON.parse(row.public_jwk as string) as JWK
      const key: SigningKey = {
        kid: row.kid as string,
        privateKey: (await importJWK(privateJwk, 'EdDSA')) as CryptoKey,
        publicKey: (await importJWK(publicJwk, 'EdDSA')) as CryptoKey,
        publicJwk: { ...publicJwk, kid: row.kid as string, alg: 'EdDSA', use: 'sig' },
      }
      byKid.set(key.kid, key)
    }
    this.#byKid = byKid
    // The newest active key signs; retired ones still verify the tokens they signed.
    const active = rows.filter((row) => row.retired === null)
    this.#current = byKid.get(active[active.length - 1]!.kid as string)
    this.#lastLoad = Date.now()
  }

  /** A new key signs from now on; the old ones verify for the grace period. */
  async rotate(): Promise<string> {
    await this.db
      .updateTable(KEYS_TABLE)
      .set({ retired: new Date().toISOString() })
      .where('retired', 'is', null)
      .execute()
    const kid = await this.create()
    await this.load()
    return kid
  }

  publicJwks(): JWK[] {
    return [...this.#byKid.values()].map((key) => key.publicJwk)
  }

  /** The key for a token's kid, reloading once when another node may have rotated. */
  async find(kid: string): Promise<SigningKey | undefined> {
    const known = this.#byKid.get(kid)
    if (known || Date.now() - this.#lastLoad < RELOAD_INTERVAL_MS) return known
    await this.load()
    return this.#byKid.get(kid)
  }

  current(): SigningKey {
    if (!this.#current) throw new Error('Signing keys are not loaded.')
    return this.#current
  }

  private rows() {
    const graceStart = new Date(Date.now() - RETIRED_KEY_GRACE_SECONDS * 1000).toISOString()
    return this.db
      .selectFrom(KEYS_TABLE)
      .selectAll()
      .where((eb) => eb.or([eb('retired', 'is', null), eb('retired', '>', graceStart)]))
      .orderBy('created')
      .orderBy('kid')
      .execute()
  }

  private async create(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
    const kid = randomUUID()
    await this.db
      .insertInto(KEYS_TABLE)
      .values({
        kid,
        algorithm: 'EdDSA',
        public_jwk: JSON.stringify(await exportJWK(publicKey)),
        private_sealed: this.box.seal(JSON.stringify(await exportJWK(privateKey))),
        created: new Date().toISOString(),
        retired: null,
      })
      .execute()
    return kid
  }
}
