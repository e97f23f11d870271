import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'

export const EXTERNAL_AUTHS_TABLE = '_external_auths'

export interface ExternalAuth {
  id: string
  collectionId: string
  recordId: string
  provider: string
  providerUserId: string
  created: string
}

function fromRow(row: Record<string, unknown>): ExternalAuth {
  return {
    id: row.id as string,
    collectionId: row.collection_id as string,
    recordId: row.record_id as string,
    provider: row.provider as string,
    providerUserId: row.provider_user_id as string,
    created: row.created as string,
  }
}

/** Which provider accounts belong to which auth records. */
export class ExternalAuthStore {
  constructor(private readonly db: Kysely<any>) {}

  async find(collectionId: string, provider: string, providerUserId: string): Promise<ExternalAuth | null> {
    const row = await this.db
      .selectFrom(EXTERNAL_AUTHS_TABLE)
      .selectAll()
      .where('collection_id', '=', collectionId)
      .where('provider', '=', provider)
      .where('provider_user_id', '=', providerUserId)
      .executeTakeFirst()
    return row ? fromRow(row) : null
  }

  async link(link: Omit<ExternalAuth, 'id' | 'created'>, db: Kysely<any> = this.db): Promise<ExternalAuth> {
    const stored: ExternalAuth = { id: randomUUID(), created: new Date().toISOString(), ...link }
    await db
      .insertInto(EXTERNAL_AUTHS_TABLE)
      .values({
        id: stored.id,
        collection_id: stored.collectionId,
        record_id: stored.recordId,
        provider: stored.provider,
        provider_user_id: stored.providerUserId,
        created: stored.created,
      })
      .execute()
    return stored
  }

  async list(collectionId: string, recordId: string): Promise<ExternalAuth[]> {
    const rows = await this.db
      .selectFrom(EXTERNAL_AUTHS_TABLE)
      .selectAll()
      .where('collection_id', '=', collectionId)
      .where('record_id', '=', recordId)
      .orderBy('created')
      .orderBy('id')
      .execute()
    return rows.map(fromRow)
  }

  /** Removes the record's link to that provider; false when there was none. */
  async unlink(collectionId: string, recordId: string, provider: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom(EXTERNAL_AUTHS_TABLE)
      .where('collection_id', '=', collectionId)
      .where('record_id', '=', recordId)
      .where('provider', '=', provider)
      .executeTakeFirst()
    return Number(result.numDeletedRows) > 0
  }

  async unlinkAll(db: Kysely<any>, collectionId: string, recordId: string): Promise<void> {
    await db
      .deleteFrom(EXTERNAL_AUTHS_TABLE)
      .where('collection_id', '=', collectionId)
      .where('record_id', '=', recordId)
      .execute()
  }
}

/** The link as the API shows it. */
export function externalAuthView(link: ExternalAuth) {
  return {
    id: link.id,
    provider: link.provider,
    providerUserId: link.providerUserId,
    recordId: link.recordId,
    created: link.created,
  }
}
