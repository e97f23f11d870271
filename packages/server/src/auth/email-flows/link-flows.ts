import type { Kysely } from 'kysely'
import type { CollectionDefinition, LinkKind } from '../../collections/index.js'
import { verifyPassword } from '../../crypto/index.js'
import { ForbiddenError, UnauthorizedError, ValidationError } from '../../errors/index.js'
import { type Caller, superuser } from '../../identity/index.js'
import type { RecordService } from '../../records/index.js'
import type { AuditLog } from '../audit.js'
import type { Lockout } from '../lockout.js'
import type { SessionStore } from '../sessions.js'
import { type Account, accountByEmail, accountById, normalizeEmail } from './accounts.js'
import type { AuthTokenStore, StoredToken, TokenPurpose } from './auth-tokens.js'
import { linkBase, linkWithToken } from './links.js'
import type { Postbox } from './postbox.js'

export interface LinkFlowsDeps {
  db: Kysely<any>
  records: RecordService
  sessions: SessionStore
  lockout: Lockout
  audit: AuditLog
  tokens: AuthTokenStore
  postbox: Postbox
  publicUrl: string
}

const purposeOf: Record<LinkKind, TokenPurpose> = {
  verification: 'verification',
  passwordReset: 'password_reset',
  emailChange: 'email_change',
}

/** Every refusal of a link token reads the same: nothing tells a missing token from a spent one. */
function invalidToken(): ValidationError {
  return new ValidationError(
    { token: { code: 'invalid_token', message: 'is invalid, has expired or was used already' } },
    'The link is invalid, has expired or was used already; ask for a new one.',
  )
}

/**
 * Verification, password reset and email change: each sends a mail with a link
 * holding a single-use token, and a confirm step spends the token and changes
 * the record through the records service, so validation and change listeners run.
 */
export class LinkFlows {
  constructor(private readonly deps: LinkFlowsDeps) {}

  /** Sends a link when the address belongs to an unverified record; answers the same either way. */
  async requestVerification(collection: CollectionDefinition, rawEmail: string): Promise<void> {
    const email = normalizeEmail(collection, rawEmail, 'email')
    const base = linkBase(collection, 'verification', this.deps.publicUrl)
    const account = await accountByEmail(this.deps.db, collection, email)
    await this.issueAndSend(
      collection,
      'verification',
      base,
      account && !account.verified ? account : null,
      email,
    )
  }

  async confirmVerification(collection: CollectionDefinition, token: string): Promise<void> {
    const { stored, account } = await this.redeemable(collection, token, 'verification')
    await this.deps.records.batch(superuser, async (scope) => {
      if (!(await this.deps.tokens.spend(scope.db, stored))) throw invalidToken()
      if (!account.verified) await scope.update(collection.name, account.id, { verified: true })
      await this.deps.audit.record(
        { event: 'verified', collectionId: collection.id, recordId: account.id },
        scope.db,
      )
    })
  }

  async requestPasswordReset(collection: CollectionDefinition, rawEmail: string): Promise<void> {
    const email = normalizeEmail(collection, rawEmail, 'email')
    const base = linkBase(collection, 'passwordReset', this.deps.publicUrl)
    const account = await accountByEmail(this.deps.db, collection, email)
    await this.issueAndSend(collection, 'passwordReset', base, account, email)
  }

  /**
   * Sets the new password (the service checks it against the collection's password
   * policy, hashes it, rotates the token key and, through the auth listener, ends
   * every session). The link came by mail, so it proves the address as well.
   */
  async confirmPasswordReset(
    collection: CollectionDefinition,
    body: { token: string; password: string; passwordConfirm: string },
    ip: string,
  ): Promise<void> {
    const { stored, account } = await this.redeemable(collection, body.token, 'passwordReset')
    await this.deps.records.batch(superuser, async (scope) => {
      if (!(await this.deps.tokens.spend(scope.db, stored))) throw invalidToken()
      await scope.update(collection.name, account.id, {
        password: body.password,
        passwordConfirm: body.passwordConfirm,
        ...(account.verified ? {} : { verified: true }),
      })
      await this.deps.audit.record(
        { event: 'password_reset', collectionId: collection.id, recordId: account.id, ip },
        scope.db,
      )
    })
    await this.deps.lockout.succeed(collection, account.email)
  }

  /**
   * Sends a link to the new address. Only a record signed in to this collection
   * may ask, and it learns when the address is taken: the answer helps the user,
   * and the rate limit bounds what an account holder can probe.
   */
  async requestEmailChange(
    caller: Caller,
    collection: CollectionDefinition,
    rawEmail: string,
  ): Promise<void> {
    if (!caller.auth || caller.auth.collection.id !== collection.id)
      throw new UnauthorizedError(`Sign in to ${collection.name} to change your email address.`)
    if (caller.apiKey)
      throw new ForbiddenError('Changing the email address needs a signed-in session, not an API key.')
    const newEmail = normalizeEmail(collection, rawEmail, 'newEmail', true)
    const account = await accountById(this.deps.db, collection, caller.auth.record.id as string)
    if (!account) throw new UnauthorizedError(`Sign in to ${collection.name} to change your email address.`)
    if (newEmail === account.email)
      throw new ValidationError({ newEmail: { code: 'unchanged', message: 'is the current address' } })
    if (await accountByEmail(this.deps.db, collection, newEmail))
      throw new ValidationError({ newEmail: { code: 'not_unique', message: 'is already in use' } })
    const base = linkBase(collection, 'emailChange', this.deps.publicUrl)
    const token = await this.deps.tokens.issue({
      purpose: 'email_change',
      collectionId: collection.id,
      recordId: account.id,
      data: { email: account.email, newEmail },
    })
    const link = linkWithToken(base, collection, token)
    this.deps.postbox.post(
      this.deps.postbox.compose(collection, 'emailChange', newEmail, { LINK: link, TOKEN: token }),
      'emailChange',
    )
  }

  /**
   * The record's password confirms the change (wrong guesses count toward the
   * sign-in lockout of the address). The new address is proven by the link, and
   * every session ends: whoever holds one signed in with the old address.
   */
  async confirmEmailChange(
    collection: CollectionDefinition,
    body: { token: string; password: string },
    ip: string,
  ): Promise<void> {
    const { stored, account } = await this.redeemable(collection, body.token, 'emailChange')
    await this.deps.lockout.check(collection, account.email)
    if (!(await verifyPassword(account.password, body.password))) {
      await this.deps.lockout.fail(collection, account.email)
      await this.deps.audit.record({
        event: 'sign_in_failed',
        collectionId: collection.id,
        recordId: account.id,
        ip,
        detail: { method: 'email_change' },
      })
      throw new ValidationError({
        password: { code: 'invalid_password', message: 'is not the password of this account' },
      })
    }
    const newEmail = stored.data.newEmail!
    await this.deps.records.batch(superuser, async (scope) => {
      if (!(await this.deps.tokens.spend(scope.db, stored))) throw invalidToken()
      await scope.update(
        collection.name,
        account.id,
        { email: newEmail, verified: true },
        { isEmailChange: true },
      )
      await this.deps.sessions.revokeAll(scope.db, collection.id, account.id)
      await this.deps.audit.record(
        { event: 'email_changed', collectionId: collection.id, recordId: account.id, ip },
        scope.db,
      )
    })
  }

  /**
   * Stores a token and posts the mail when there is a record; otherwise stores a
   * decoy, so both cases do the same database work before the same answer.
   */
  private async issueAndSend(
    collection: CollectionDefinition,
    kind: 'verification' | 'passwordReset',
    base: string,
    account: Account | null,
    email: string,
  ): Promise<void> {
    const token = await this.deps.tokens.issue({
      purpose: purposeOf[kind],
      collectionId: collection.id,
      recordId: account?.id ?? null,
      data: { email },
    })
    if (!account) return
    const link = linkWithToken(base, collection, token)
    this.deps.postbox.post(
      this.deps.postbox.compose(collection, kind, email, { LINK: link, TOKEN: token }),
      kind,
    )
  }

  /**
   * The token and its record, if the token is valid and the record still has the
   * address the link was sent to (a link to an old address proves nothing now).
   */
  private async redeemable(
    collection: CollectionDefinition,
    token: string,
    kind: LinkKind,
  ): Promise<{ stored: StoredToken; account: Account }> {
    const stored = await this.deps.tokens.find(token, purposeOf[kind], collection.id)
    if (!stored?.recordId) throw invalidToken()
    const account = await accountById(this.deps.db, collection, stored.recordId)
    if (!account || account.email !== stored.data.email) throw invalidToken()
    return { stored, account }
  }
}
