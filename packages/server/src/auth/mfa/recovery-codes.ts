import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import { sha256 } from '../../crypto/index.js'
import { RECOVERY_CODES_TABLE } from './migration.js'
import { type FactorOwner, ownerRow } from './totp.js'

const RECOVERY_CODE_COUNT = 10

// No 0/o, 1/l/i: codes are read off paper and typed by hand.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'

/** `xxxxx-xxxxx`: 10 characters of a 31-letter alphabet, about 49 bits. */
function newCode(): string {
  const bytes = randomBytes(10)
  const letters = [...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]).join('')
  return `${letters.slice(0, 5)}-${letters.slice(5)}`
}

/** What a user typed, as it was generated: case, spaces and dashes do not matter. */
function normalizeRecoveryCode(code: string): string {
  const letters = code.toLowerCase().replace(/[\s-]/g, '')
  return `${letters.slice(0, 5)}-${letters.slice(5)}`
}

/**
 * One-time codes that stand in for TOTP when the phone is lost. Shown once, stored as
 * SHA-256 hashes: they are random, so a slow hash adds nothing.
 */
export class RecoveryCodes {
  constructor(private readonly db: Kysely<any>) {}

  private hash(owner: FactorOwner, code: string): string {
    return sha256(`${owner.collectionId}\n${owner.recordId}\n${normalizeRecoveryCode(code)}`)
  }

  /** Replaces every code of the owner with a fresh set and answers it. */
  async replace(db: Kysely<any>, owner: FactorOwner): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode)
    await this.clear(db, owner)
    const created = new Date().toISOString()
    await db
      .insertInto(RECOVERY_CODES_TABLE)
      .values(
        codes.map((code) => ({
          hash: this.hash(owner, code),
          collection_id: owner.collectionId,
          record_id: owner.recordId,
          used: null,
          created,
        })),
      )
      .execute()
    return codes
  }

  /** Spends a code; false when it is unknown or already spent. */
  async consume(owner: FactorOwner, code: string): Promise<boolean> {
    const result = await ownerRow(this.db.updateTable(RECOVERY_CODES_TABLE), owner)
      .set({ used: new Date().toISOString() })
      .where('hash', '=', this.hash(owner, code))
      .where('used', 'is', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  async remaining(owner: FactorOwner): Promise<number> {
    const row = await ownerRow(this.db.selectFrom(RECOVERY_CODES_TABLE), owner)
      .where('used', 'is', null)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async clear(db: Kysely<any>, owner: FactorOwner): Promise<void> {
    await ownerRow(db.deleteFrom(RECOVERY_CODES_TABLE), owner).execute()
  }
}
