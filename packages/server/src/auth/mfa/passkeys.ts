import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server'
import type { Kysely } from 'kysely'
import { BadRequestError } from '../../errors/index.js'
import { PASSKEYS_TABLE, WEBAUTHN_CHALLENGES_TABLE } from './migration.js'
import { type FactorOwner, ownerRow } from './totp.js'

type Webauthn = typeof import('@simplewebauthn/server')

// The WebAuthn library (and its X.509 and ASN.1 stack) loads on first use: most
// deployments never see a passkey, and it would add to every cold start.
let webauthn: Promise<Webauthn> | undefined
function loadWebauthn(): Promise<Webauthn> {
  webauthn ??= import('@simplewebauthn/server')
  return webauthn
}

/** Where passkeys are valid: the RP ID (a domain) and the page origins that may use them. */
export interface RelyingParty {
  id: string
  origins: string[]
}

const MAX_PASSKEYS = 20
const CHALLENGE_SECONDS = 5 * 60
const TIMEOUT_MS = CHALLENGE_SECONDS * 1000

interface PasskeyView {
  id: string
  name: string
  transports: string[]
  created: string
  lastUsed: string | null
}

interface PasskeyRow {
  id: string
  collection_id: string
  record_id: string
  public_key: string
  counter: number | string
  transports: string
  name: string
  created: string
  last_used: string | null
}

type ChallengePurpose = 'register' | 'authenticate'

/** What a stored WebAuthn challenge was issued for; it is spent only by the same purpose. */
interface ChallengeScope {
  purpose: ChallengePurpose
  collectionId: string
  recordId: string | null
  mfaId: string | null
}

/**
 * WebAuthn passkeys of auth records, verified with @simplewebauthn/server. Every
 * challenge is stored server-side and spent by the first response that names it,
 * whether that response then verifies or not.
 */
export class Passkeys {
  constructor(
    private readonly db: Kysely<any>,
    private readonly rp: RelyingParty,
  ) {}

  async count(owner: FactorOwner): Promise<number> {
    const row = await ownerRow(this.db.selectFrom(PASSKEYS_TABLE), owner)
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async list(owner: FactorOwner): Promise<PasskeyView[]> {
    const rows = (await ownerRow(this.db.selectFrom(PASSKEYS_TABLE), owner)
      .selectAll()
      .orderBy('created')
      .orderBy('id')
      .execute()) as PasskeyRow[]
    return rows.map(view)
  }

  async remove(owner: FactorOwner, id: string): Promise<boolean> {
    const result = await ownerRow(this.db.deleteFrom(PASSKEYS_TABLE), owner)
      .where('id', '=', id)
      .executeTakeFirst()
    return Number(result.numDeletedRows) === 1
  }

  async removeAll(db: Kysely<any>, owner: FactorOwner): Promise<void> {
    await ownerRow(db.deleteFrom(PASSKEYS_TABLE), owner).execute()
  }

  async registrationOptions(
    owner: FactorOwner,
    user: { name: string; displayName: string },
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.rows(owner)
    if (existing.length >= MAX_PASSKEYS)
      throw new BadRequestError(`A record holds at most ${MAX_PASSKEYS} passkeys; remove one first.`)
    const options = await (await loadWebauthn()).generateRegistrationOptions({
      rpName: this.rp.id,
      rpID: this.rp.id,
      userName: user.name,
      userDisplayName: user.displayName,
      // The user handle comes back with discoverable sign-ins and must not be personal data.
      userID: new TextEncoder().encode(owner.recordId),
      timeout: TIMEOUT_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((row) => ({ id: row.id, transports: JSON.parse(row.transports) })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    })
    await this.storeChallenge(options.challenge, {
      purpose: 'register',
      collectionId: owner.collectionId,
      recordId: owner.recordId,
      mfaId: null,
    })
    return options
  }

  /** Stores the new credential; null when the response does not verify. */
  async register(
    owner: FactorOwner,
    response: RegistrationResponseJSON,
    name: string,
  ): Promise<PasskeyView | null> {
    const scope: ChallengeScope = {
      purpose: 'register',
      collectionId: owner.collectionId,
      recordId: owner.recordId,
      mfaId: null,
    }
    let verified: Awaited<ReturnType<Webauthn['verifyRegistrationResponse']>>
    try {
      verified = await (await loadWebauthn()).verifyRegistrationResponse({
        response,
        expectedChallenge: (challenge) => this.spendChallenge(challenge, scope),
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.id,
        requireUserVerification: false,
      })
    } catch {
      return null
    }
    if (!verified.verified) return null
    const { credential } = verified.registrationInfo
    if ((await this.count(owner)) >= MAX_PASSKEYS) return null
    const taken = await this.db
      .selectFrom(PASSKEYS_TABLE)
      .select('id')
      .where('id', '=', credential.id)
      .executeTakeFirst()
    if (taken) return null
    const row: PasskeyRow = {
      id: credential.id,
      collection_id: owner.collectionId,
      record_id: owner.recordId,
      public_key: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: JSON.stringify(credential.transports ?? []),
      name,
      created: new Date().toISOString(),
      last_used: null,
    }
    await this.db.insertInto(PASSKEYS_TABLE).values(row).execute()
    return view(row)
  }

  /**
   * Options for `navigator.credentials.get()`. With an MFA challenge the record's own
   * passkeys are listed; without one the browser offers any passkey of this site.
   */
  async authenticationOptions(
    collectionId: string,
    second?: { mfaId: string; recordId: string },
  ): Promise<PublicKeyCredentialRequestOptionsJSON> {
    let allowCredentials: { id: string; transports: string[] }[] | undefined
    if (second) {
      const rows = await this.rows({ collectionId, recordId: second.recordId })
      if (rows.length === 0) throw new BadRequestError('No passkey is registered for this account.')
      allowCredentials = rows.map((row) => ({ id: row.id, transports: JSON.parse(row.transports) }))
    }
    const options = await (await loadWebauthn()).generateAuthenticationOptions({
      rpID: this.rp.id,
      timeout: TIMEOUT_MS,
      userVerification: second ? 'preferred' : 'required',
      ...(allowCredentials ? { allowCredentials } : {}),
    })
    await this.storeChallenge(options.challenge, {
      purpose: 'authenticate',
      collectionId,
      recordId: second?.recordId ?? null,
      mfaId: second?.mfaId ?? null,
    })
    return options
  }

  /**
   * Verifies an assertion and answers the record it signs in, or null. As a second
   * factor possession is enough; signing in without a password also needs user
   * verification (PIN or biometrics), which makes the passkey two factors in one.
   */
  async authenticate(
    collectionId: string,
    response: AuthenticationResponseJSON,
    second?: { mfaId: string; recordId: string },
  ): Promise<string | null> {
    const scope: ChallengeScope = {
      purpose: 'authenticate',
      collectionId,
      recordId: second?.recordId ?? null,
      mfaId: second?.mfaId ?? null,
    }
    let query = this.db
      .selectFrom(PASSKEYS_TABLE)
      .selectAll()
      .where('id', '=', response.id)
      .where('collection_id', '=', collectionId)
    if (second) query = query.where('record_id', '=', second.recordId)
    const row = (await query.executeTakeFirst()) as PasskeyRow | undefined
    if (!row) {
      // The challenge is spent all the same: a response is good for one try.
      await this.spendChallengeOf(response, scope)
      return null
    }
    const handle = response.response.userHandle
    if (handle && handle !== Buffer.from(row.record_id).toString('base64url')) {
      await this.spendChallengeOf(response, scope)
      return null
    }
    const storedCounter = Number(row.counter)
    let verified: Awaited<ReturnType<Webauthn['verifyAuthenticationResponse']>>
    try {
      verified = await (await loadWebauthn()).verifyAuthenticationResponse({
        response,
        expectedChallenge: (challenge) => this.spendChallenge(challenge, scope),
        expectedOrigin: this.rp.origins,
        expectedRPID: this.rp.id,
        credential: {
          id: row.id,
          publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
          counter: storedCounter,
          transports: JSON.parse(row.transports),
        },
        requireUserVerification: !second,
      })
    } catch {
      return null
    }
    if (!verified.verified) return null
    // A counter that did not grow means a cloned authenticator (the library refuses it);
    // the condition refuses the slower of two parallel uses of one response as well.
    const updated = await this.db
      .updateTable(PASSKEYS_TABLE)
      .set({ counter: verified.authenticationInfo.newCounter, last_used: new Date().toISOString() })
      .where('id', '=', row.id)
      .where('counter', '=', storedCounter)
      .executeTakeFirst()
    return Number(updated.numUpdatedRows) === 1 ? row.record_id : null
  }

  private rows(owner: FactorOwner): Promise<PasskeyRow[]> {
    return ownerRow(this.db.selectFrom(PASSKEYS_TABLE), owner).selectAll().execute() as Promise<PasskeyRow[]>
  }

  private async storeChallenge(challenge: string, scope: ChallengeScope): Promise<void> {
    const now = Date.now()
    await this.db
      .deleteFrom(WEBAUTHN_CHALLENGES_TABLE)
      .where('expires', '<=', new Date(now).toISOString())
      .execute()
    await this.db
      .insertInto(WEBAUTHN_CHALLENGES_TABLE)
      .values({
        challenge,
        purpose: scope.purpose,
        collection_id: scope.collectionId,
        record_id: scope.recordId,
        mfa_id: scope.mfaId,
        expires: new Date(now + CHALLENGE_SECONDS * 1000).toISOString(),
      })
      .execute()
  }

  /** Deletes the challenge if it is open and was issued for this scope; true when it was. */
  private async spendChallenge(challenge: string, scope: ChallengeScope): Promise<boolean> {
    const result = await this.db
      .deleteFrom(WEBAUTHN_CHALLENGES_TABLE)
      .where('challenge', '=', challenge)
      .where('purpose', '=', scope.purpose)
      .where('collection_id', '=', scope.collectionId)
      .where((eb) =>
        eb.and([
          scope.recordId === null ? eb('record_id', 'is', null) : eb('record_id', '=', scope.recordId),
          scope.mfaId === null ? eb('mfa_id', 'is', null) : eb('mfa_id', '=', scope.mfaId),
        ]),
      )
      .where('expires', '>', new Date().toISOString())
      .executeTakeFirst()
    return Number(result.numDeletedRows) === 1
  }

  private async spendChallengeOf(response: AuthenticationResponseJSON, scope: ChallengeScope): Promise<void> {
    const challenge = challengeOf(response.response.clientDataJSON)
    if (challenge) await this.spendChallenge(challenge, scope)
  }
}

function challengeOf(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as {
      challenge?: unknown
    }
    return typeof data.challenge === 'string' ? data.challenge : null
  } catch {
    return null
  }
}

function view(row: PasskeyRow): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    transports: JSON.parse(row.transports),
    created: row.created,
    lastUsed: row.last_used,
  }
}
