import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose'
import type { Kysely } from 'kysely'
import { LRUCache } from 'lru-cache'
import type { CollectionDefinition, CollectionRegistry } from '../collections/index.js'
import { UnauthorizedError } from '../errors/index.js'
import type { Caller } from '../identity/index.js'
import { SESSIONS_TABLE } from './sessions.js'
import type { SigningKeys } from './signing-keys.js'

export const SUPERUSERS = '_superusers'

const CLOCK_TOLERANCE_SECONDS = 30
// Revoking a session must take effect within a second, so verified tokens are remembered for less.
const VERIFIED_TTL_MS = 900

export interface TokenSettings {
  issuer: string
  ttlSeconds: number
}

interface AccessClaims {
  sub: string
  col: string
  sid: string
  typ: string
  /** When the record signed in, in seconds since the epoch (OpenID Connect's `auth_time`). */
  auth_time?: number
}

/** `access` tokens stand for a session on every endpoint; `file` tokens only read protected files. */
export type TokenType = 'access' | 'file'

export interface SignOptions {
  /** Lifetime in seconds; impersonation asks for a shorter one. */
  ttlSeconds?: number
  type?: TokenType
  /**
   * When the record last proved who it is: the sign-in that opened the session, carried
   * unchanged through refreshes. Impersonation leaves it out, as it proves nothing about the user.
   */
  authTime?: Date | null
}

interface VerifiedCaller {
  caller: Caller
  /** Date.now() when the session was found valid. */
  at: number
}

/** Issues access tokens for sessions and turns a bearer token back into a caller. */
export class TokenService {
  readonly #verified = new LRUCache<string, VerifiedCaller>({ max: 10_000 })

  constructor(
    private readonly db: Kysely<any>,
    private readonly keys: SigningKeys,
    private readonly registry: CollectionRegistry,
    private readonly settings: TokenSettings,
  ) {}

  /** An access token for a session. */
  async sign(
    collection: CollectionDefinition,
    recordId: string,
    sid: string,
    options: SignOptions = {},
  ): Promise<string> {
    const key = this.keys.current()
    const claims: Record<string, unknown> = { col: collection.name, sid, typ: options.type ?? 'access' }
    if (options.authTime) claims.auth_time = Math.floor(options.authTime.getTime() / 1000)
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.settings.issuer)
      .setSubject(recordId)
      .setIssuedAt()
      .setExpirationTime(`${options.ttlSeconds ?? this.settings.ttlSeconds}s`)
      .sign(key.privateKey)
  }

  /** The caller a token of `type` stands for; 401 for anything not valid now. */
  async verify(token: string, type: TokenType = 'access'): Promise<Caller> {
    // Date.now rather than a monotonic timer, so tests move time by faking Date; an age below
    // zero (the clock was set back) counts as expired, so no clock step stretches the second.
    const now = Date.now()
    const cached = type === 'access' ? this.#verified.get(token) : undefined
    if (cached && now >= cached.at && now - cached.at < VERIFIED_TTL_MS) return cached.caller
    const claims = await this.verifySignature(token, type)
    const collection = this.registry.get(claims.col)
    if (collection?.type !== 'auth') throw invalid()
    const session = await this.db
      .selectFrom(SESSIONS_TABLE)
      .select(['id', 'impersonated_by'])
      .where('id', '=', claims.sid)
      .where('record_id', '=', claims.sub)
      .where('collection_id', '=', collection.id)
      .where('revoked', 'is', null)
      .where('expires', '>', new Date(now).toISOString())
      .executeTakeFirst()
    if (!session) throw invalid()
    const record = await this.db
      .selectFrom(collection.name)
      .selectAll()
      .where('id', '=', claims.sub)
      .executeTakeFirst()
    if (!record) throw invalid()
    delete record.password
    delete record.tokenKey
    const caller: Caller = {
      auth: { collection, record },
      isSuperuser: collection.name === SUPERUSERS,
      session: {
        id: session.id as string,
        impersonatedBy: (session.impersonated_by as string | null) ?? null,
        signedInAt: claims.auth_time === undefined ? null : claims.auth_time * 1000,
      },
    }
    if (type === 'access') this.#verified.set(token, { caller, at: now })
    return caller
  }

  /** Drops the verified tokens of a record, so its ended sessions stop at once on this node. */
  forgetRecord(collectionId: string, recordId: string): void {
    for (const [token, verified] of this.#verified.entries()) {
      const auth = verified.caller.auth
      if (auth?.collection.id === collectionId && auth.record.id === recordId) this.#verified.delete(token)
    }
  }

  private async verifySignature(token: string, type: TokenType): Promise<AccessClaims> {
    try {
      const header = decodeProtectedHeader(token)
      // Only EdDSA with a known key id: no "none", no HMAC keyed with a public key.
      if (header.alg !== 'EdDSA' || typeof header.kid !== 'string') throw invalid()
      const key = await this.keys.find(header.kid)
      if (!key) throw invalid()
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: ['EdDSA'],
        issuer: this.settings.issuer,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
      })
      if (
        payload.typ !== type ||
        typeof payload.col !== 'string' ||
        typeof payload.sid !== 'string' ||
        (payload.auth_time !== undefined && !Number.isSafeInteger(payload.auth_time))
      )
        throw invalid()
      return payload as unknown as AccessClaims
    } catch (error) {
      if (error instanceof UnauthorizedError) throw error
      if (error instanceof joseErrors.JWTExpired)
        throw new UnauthorizedError('The token has expired.', 'invalid_token')
      throw invalid()
    }
  }
}

function invalid(): UnauthorizedError {
  return new UnauthorizedError('The token is not valid.', 'invalid_token')
}
