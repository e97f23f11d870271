import type { FastifyRequest } from 'fastify'
import type { CollectionDefinition } from '../collections/index.js'
import type { RecordData, RecordService } from '../records/index.js'
import type { AuditLog } from './audit.js'
import { type SessionStore, signedInAt } from './sessions.js'
import type { TokenService } from './tokens.js'

export type SignInMethod = 'password' | 'otp' | 'oauth2' | 'passkey' | 'setup'

export interface SignInResult {
  token: string
  refreshToken: string
  record: RecordData
}

/**
 * A further factor a sign-in may need (TOTP, passkey): returns a challenge id the
 * client must answer before tokens are issued, or null when none is needed.
 */
export interface SecondFactorGate {
  challenge(collection: CollectionDefinition, recordId: string, method: SignInMethod): Promise<string | null>
  /** Fields added to an answer with tokens, e.g. that a required factor is still to be enrolled. */
  annotate?(collection: CollectionDefinition, recordId: string): Promise<Record<string, unknown>>
}

export interface SignInSettings {
  sessionLifetimeSeconds: number
}

/** The last step of every way of signing in: a session, its tokens and the record. */
export class SignIn {
  readonly #gates: SecondFactorGate[] = []

  constructor(
    private readonly sessions: SessionStore,
    private readonly tokens: TokenService,
    private readonly records: RecordService,
    private readonly audit: AuditLog,
    private readonly settings: SignInSettings,
  ) {}

  addSecondFactor(gate: SecondFactorGate): void {
    this.#gates.push(gate)
  }

  /** Issues tokens, unless a second factor is due: then the answer is `{ mfaId }`. */
  async complete(
    request: FastifyRequest,
    collection: CollectionDefinition,
    recordId: string,
    method: SignInMethod,
  ): Promise<SignInResult | { mfaId: string }> {
    for (const gate of this.#gates) {
      const mfaId = await gate.challenge(collection, recordId, method)
      if (mfaId) return { mfaId }
    }
    const result = await this.issue(request, collection, recordId, method)
    for (const gate of this.#gates) Object.assign(result, await gate.annotate?.(collection, recordId))
    return result
  }

  /** Issues tokens without asking for further factors (they were passed already). */
  async issue(
    request: FastifyRequest,
    collection: CollectionDefinition,
    recordId: string,
    method: SignInMethod,
  ): Promise<SignInResult> {
    const { session, refreshToken } = await this.sessions.create(collection, recordId, {
      userAgent: request.headers['user-agent'],
      ip: request.ip,
      lifetimeSeconds: this.settings.sessionLifetimeSeconds,
    })
    const token = await this.tokens.sign(collection, recordId, session.id, { authTime: signedInAt(session) })
    await this.audit.record({
      event: 'sign_in',
      collectionId: collection.id,
      recordId,
      ip: request.ip,
      detail: { method },
    })
    const record = await this.records.own(await this.tokens.verify(token))
    return { token, refreshToken: refreshToken!, record }
  }
}
