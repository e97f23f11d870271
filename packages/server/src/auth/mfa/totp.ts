import type { Kysely } from 'kysely'
import type { TOTP } from 'otplib'
import type { SecretBox } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import { ConflictError, NotFoundError } from '../../errors/index.js'
import { TOTP_TABLE } from './migration.js'

/** The auth record a factor belongs to. */
export interface FactorOwner {
  collectionId: string
  recordId: string
}

const PERIOD_SECONDS = 30
// One step either side: phones whose clocks drift by a few seconds still get in.
const TOLERANCE_SECONDS = PERIOD_SECONDS

/**
 * TOTP (RFC 6238) with the defaults every authenticator app reads: SHA-1, 6 digits,
 * 30 s. Secrets are stored sealed with the instance secret; each time step is accepted
 * once per record, so a code seen over someone's shoulder is already spent.
 */
export class TotpFactor {
  #totp: Promise<TOTP> | undefined

  constructor(
    private readonly dialect: Dialect,
    private readonly box: SecretBox,
  ) {}

  async isEnabled(owner: FactorOwner): Promise<boolean> {
    const row = await this.find(owner)
    return row?.enabled != null
  }

  /** A new pending secret (replacing an unconfirmed one); 409 while TOTP is on. */
  async setup(
    owner: FactorOwner,
    label: string,
    issuer: string,
  ): Promise<{ secret: string; otpauthURL: string }> {
    if (await this.isEnabled(owner))
      throw new ConflictError(
        'mfa_already_enabled',
        'TOTP is already on; turn it off before enrolling again.',
      )
    const totp = await this.totp()
    const secret = totp.generateSecret()
    await this.dialect.transaction(async (trx) => {
      await ownerRow(trx.deleteFrom(TOTP_TABLE), owner).execute()
      await trx
        .insertInto(TOTP_TABLE)
        .values({
          collection_id: owner.collectionId,
          record_id: owner.recordId,
          secret_sealed: this.box.seal(secret),
          enabled: null,
          last_step: null,
          created: new Date().toISOString(),
        })
        .execute()
    })
    return { secret, otpauthURL: totp.toURI({ secret, label, issuer }) }
  }

  /** Turns a pending enrolment on when the code matches its secret. */
  async confirm(db: Kysely<any>, owner: FactorOwner, code: string): Promise<boolean> {
    const row = await this.find(owner, db)
    if (!row || row.enabled != null) throw new NotFoundError('pending TOTP enrolment')
    const step = await this.matchingStep(row.secret_sealed, code, null)
    if (step === null) return false
    const result = await ownerRow(db.updateTable(TOTP_TABLE), owner)
      .set({ enabled: new Date().toISOString(), last_step: step })
      .where('enabled', 'is', null)
      .where('secret_sealed', '=', row.secret_sealed)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /** Whether the code is right for the enabled secret and its time step was not used before. */
  async verify(owner: FactorOwner, code: string): Promise<boolean> {
    const row = await this.find(owner)
    if (!row || row.enabled == null) return false
    const lastStep = row.last_step == null ? null : Number(row.last_step)
    const step = await this.matchingStep(row.secret_sealed, code, lastStep)
    if (step === null) return false
    // The condition makes two requests racing with the same code accept only one.
    const spent = await ownerRow(this.dialect.db.updateTable(TOTP_TABLE), owner)
      .set({ last_step: step })
      .where('enabled', 'is not', null)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst()
    return Number(spent.numUpdatedRows) === 1
  }

  async remove(db: Kysely<any>, owner: FactorOwner): Promise<void> {
    await ownerRow(db.deleteFrom(TOTP_TABLE), owner).execute()
  }

  private async find(owner: FactorOwner, db: Kysely<any> = this.dialect.db) {
    return ownerRow(db.selectFrom(TOTP_TABLE), owner)
      .select(['secret_sealed', 'enabled', 'last_step'])
      .executeTakeFirst() as Promise<
      { secret_sealed: string; enabled: string | null; last_step: number | string | null } | undefined
    >
  }

  private totp(): Promise<TOTP> {
    this.#totp ??= createTotp()
    return this.#totp
  }

  private async matchingStep(sealed: string, code: string, afterStep: number | null): Promise<number | null> {
    const epoch = Math.floor(Date.now() / 1000)
    // otplib refuses an afterTimeStep beyond the window; a step that far ahead cannot match anyway.
    if (afterStep !== null && afterStep > Math.floor((epoch + TOLERANCE_SECONDS) / PERIOD_SECONDS))
      return null
    const totp = await this.totp()
    const result = await totp.verify(code, {
      secret: this.box.open(sealed),
      epoch,
      period: PERIOD_SECONDS,
      epochTolerance: TOLERANCE_SECONDS,
      ...(afterStep === null ? {} : { afterTimeStep: afterStep }),
    })
    return result.valid ? result.timeStep : null
  }
}

/** otplib loads with the first TOTP enrolment or check, not with every server. */
async function createTotp(): Promise<TOTP> {
  const { NobleCryptoPlugin, ScureBase32Plugin, TOTP } = await import('otplib')
  return new TOTP({ crypto: new NobleCryptoPlugin(), base32: new ScureBase32Plugin() })
}

/** Narrows a query to the owner's row. */
export function ownerRow<Q extends { where: (...args: any[]) => any }>(query: Q, owner: FactorOwner): Q {
  return query.where('collection_id', '=', owner.collectionId).where('record_id', '=', owner.recordId) as Q
}
