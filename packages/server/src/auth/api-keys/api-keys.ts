import { randomBytes, randomUUID } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import type { CollectionDefinition, CollectionRegistry } from '../../collections/index.js'
import { constantTimeEqual, sha256 } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import { BadRequestError, UnauthorizedError } from '../../errors/index.js'
import type { ApiKeyScope, Caller } from '../../identity/index.js'
import type { RecordService } from '../../records/index.js'
import type { AuditLog } from '../audit.js'
import { SUPERUSERS } from '../tokens.js'
import { parseNewApiKey } from './key-input.js'

export const API_KEYS_TABLE = '_api_keys'

/** `plk_` + a 16-hex lookup prefix + `_` + 32 random bytes in base64url. */
const KEY_FORMAT = /^(plk_[0-9a-f]{16})_[A-Za-z0-9_-]{43}$/
// Revoking a key must take effect within a second, so verified keys are remembered for less.
const VERIFIED_TTL_MS = 900
// lastUsed is a hint for people, not a ledger: one write a minute per key is plenty.
const TOUCH_INTERVAL_MS = 60_000
/** A record may hold this many keys that are neither revoked nor expired. */
export const MAX_KEYS_PER_RECORD = 100

export interface ApiKeyOwner {
  collection: CollectionDefinition
  recordId: string
}

export interface ApiKeyInfo {
  id: string
  name: string
  prefix: string
  scopes: ApiKeyScope[]
  expires: string
  created: string
  lastUsed: string | null
}

interface Verified {
  caller: Caller
  expires: number
}

/**
 * API keys of auth records: shown once when made, stored as a SHA-256 hash (a key
 * carries 256 random bits, so a slow hash would add cost and no safety) next to a
 * visible prefix that finds the row.
 */
export class ApiKeyService {
  readonly #verified = new LRUCache<string, Verified>({ max: 10_000, ttl: VERIFIED_TTL_MS })
  readonly #touched = new LRUCache<string, number>({ max: 10_000 })

  constructor(
    private readonly dialect: Dialect,
    private readonly registry: CollectionRegistry,
    private readonly audit: AuditLog,
  ) {}

  /** Deletes the keys of a deleted auth record, in the deleting transaction. */
  attach(records: RecordService): void {
    records.onChange(async (trx, change) => {
      if (change.action !== 'delete' || change.collection.type !== 'auth') return
      const recordId = change.record.id as string
      await trx
        .deleteFrom(API_KEYS_TABLE)
        .where('collection_id', '=', change.collection.id)
        .where('record_id', '=', recordId)
        .execute()
      this.forget((caller) => caller.auth?.record.id === recordId)
    })
  }

  /** Checks the request body, stores the key's hash and answers the key itself, the one time it is seen. */
  async create(owner: ApiKeyOwner, body: unknown, ip: string, now = Date.now()) {
    const input = parseNewApiKey(body, this.registry, now)
    const active = await this.dialect.db
      .selectFrom(API_KEYS_TABLE)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('collection_id', '=', owner.collection.id)
      .where('record_id', '=', owner.recordId)
      .where('revoked', 'is', null)
      .where('expires', '>', new Date(now).toISOString())
      .executeTakeFirst()
    if (Number(active?.n ?? 0) >= MAX_KEYS_PER_RECORD)
      throw new BadRequestError(`A record may hold ${MAX_KEYS_PER_RECORD} active API keys; revoke one first.`)
    const prefix = `plk_${randomBytes(8).toString('hex')}`
    const key = `${prefix}_${randomBytes(32).toString('base64url')}`
    const row = {
      id: randomUUID(),
      collection_id: owner.collection.id,
      record_id: owner.recordId,
      name: input.name,
      prefix,
      hash: sha256(key),
      scopes: JSON.stringify(input.scopes),
      created: new Date(now).toISOString(),
      expires: input.expires.toISOString(),
      last_used: null,
      revoked: null,
    }
    await this.dialect.transaction(async (trx) => {
      await trx.insertInto(API_KEYS_TABLE).values(row).execute()
      await this.audit.record(
        {
          event: 'api_key_created',
          collectionId: owner.collection.id,
          recordId: owner.recordId,
          ip,
          detail: { key: row.id, prefix, name: input.name },
        },
        trx,
      )
    })
    return { ...info(row), key }
  }

  /** The owner's keys that are not revoked, expired ones included, newest first. */
  async list(owner: ApiKeyOwner): Promise<ApiKeyInfo[]> {
    const rows = await this.dialect.db
      .selectFrom(API_KEYS_TABLE)
      .selectAll()
      .where('collection_id', '=', owner.collection.id)
      .where('record_id', '=', owner.recordId)
      .where('revoked', 'is', null)
      .orderBy('created', 'desc')
      .orderBy('id', 'desc')
      .execute()
    return rows.map(info)
  }

  /** False when the owner has no such key: another record's key looks the same as a missing one. */
  async revoke(owner: ApiKeyOwner, id: string, ip: string, now = Date.now()): Promise<boolean> {
    const revoked = await this.dialect.transaction(async (trx) => {
      const result = await trx
        .updateTable(API_KEYS_TABLE)
        .set({ revoked: new Date(now).toISOString() })
        .where('id', '=', id)
        .where('collection_id', '=', owner.collection.id)
        .where('record_id', '=', owner.recordId)
        .where('revoked', 'is', null)
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) === 0) return false
      await this.audit.record(
        {
          event: 'api_key_revoked',
          collectionId: owner.collection.id,
          recordId: owner.recordId,
          ip,
          detail: { key: id },
        },
        trx,
      )
      return true
    })
    if (revoked) this.forget((caller) => caller.apiKey?.id === id)
    return revoked
  }

  /** The caller a key stands for: its owner record, narrowed to its scopes. 401 for anything not valid now. */
  async verify(key: string, now = Date.now()): Promise<Caller> {
    const match = KEY_FORMAT.exec(key)
    if (!match) throw invalid()
    const hash = sha256(key)
    let verified = this.#verified.get(hash)
    if (!verified) {
      verified = await this.load(match[1]!, hash)
      this.#verified.set(hash, verified)
    }
    if (verified.expires <= now) throw new UnauthorizedError('The API key has expired.', 'invalid_token')
    await this.touch(verified.caller.apiKey!.id, now)
    return verified.caller
  }

  private async load(prefix: string, hash: string): Promise<Verified> {
    const row = await this.dialect.db
      .selectFrom(API_KEYS_TABLE)
      .selectAll()
      .where('prefix', '=', prefix)
      .where('revoked', 'is', null)
      .executeTakeFirst()
    if (!row || !constantTimeEqual(row.hash as string, hash)) throw invalid()
    const collection = this.registry.all().find((c) => c.id === row.collection_id)
    if (collection?.type !== 'auth') throw invalid()
    const record = await this.dialect.db
      .selectFrom(collection.name)
      .selectAll()
      .where('id', '=', row.record_id)
      .executeTakeFirst()
    if (!record) throw invalid()
    delete record.password
    delete record.tokenKey
    return {
      caller: {
        auth: { collection, record },
        isSuperuser: collection.name === SUPERUSERS,
        apiKey: { id: row.id as string, scopes: JSON.parse(row.scopes as string) },
      },
      expires: Date.parse(row.expires as string),
    }
  }

  private async touch(id: string, now: number): Promise<void> {
    const last = this.#touched.get(id)
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return
    this.#touched.set(id, now)
    // The condition keeps several nodes from each writing within the same minute.
    const since = new Date(now - TOUCH_INTERVAL_MS).toISOString()
    await this.dialect.db
      .updateTable(API_KEYS_TABLE)
      .set({ last_used: new Date(now).toISOString() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used', 'is', null), eb('last_used', '<=', since)]))
      .execute()
  }

  private forget(matches: (caller: Caller) => boolean): void {
    for (const [hash, verified] of this.#verified.entries())
      if (matches(verified.caller)) this.#verified.delete(hash)
  }
}

function info(row: Record<string, unknown>): ApiKeyInfo {
  return {
    id: row.id as string,
    name: row.name as string,
    prefix: row.prefix as string,
    scopes: JSON.parse(row.scopes as string),
    expires: row.expires as string,
    created: row.created as string,
    lastUsed: (row.last_used as string | null) ?? null,
  }
}

function invalid(): UnauthorizedError {
  return new UnauthorizedError('The API key is not valid.', 'invalid_token')
}
