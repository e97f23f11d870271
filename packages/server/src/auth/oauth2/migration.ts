import type { Kysely } from 'kysely'
import type { SystemMigration } from '../../db/index.js'
import { EXTERNAL_AUTHS_TABLE } from './external-auths.js'
import { OAUTH2_PROVIDERS_TABLE } from './provider-settings.js'
import { OAUTH2_STATES_TABLE } from './states.js'

/** The tables below; each row belongs to an auth collection (`collection_id`). */
export const oauth2Tables = [OAUTH2_PROVIDERS_TABLE, OAUTH2_STATES_TABLE, EXTERNAL_AUTHS_TABLE] as const

/** OAuth2 settings per collection, pending sign-ins and linked provider accounts. */
export const oauth2Migration: SystemMigration = {
  name: '0020_auth_oauth2',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable(OAUTH2_PROVIDERS_TABLE)
      .addColumn('collection_id', 'text', (c) => c.primaryKey())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('providers', 'text', (c) => c.notNull())
      .addColumn('updated', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createTable(OAUTH2_STATES_TABLE)
      .addColumn('state_hash', 'text', (c) => c.primaryKey())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('redirect_url', 'text', (c) => c.notNull())
      .addColumn('code_verifier', 'text', (c) => c.notNull())
      .addColumn('nonce', 'text', (c) => c.notNull())
      .addColumn('caller', 'text')
      .addColumn('expires', 'text', (c) => c.notNull())
      .execute()
    await db.schema
      .createIndex('_oauth2_states_by_expires')
      .on(OAUTH2_STATES_TABLE)
      .column('expires')
      .execute()
    await db.schema
      .createTable(EXTERNAL_AUTHS_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('collection_id', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('provider_user_id', 'text', (c) => c.notNull())
      .addColumn('created', 'text', (c) => c.notNull())
      .addUniqueConstraint('_external_auths_provider_account', [
        'collection_id',
        'provider',
        'provider_user_id',
      ])
      .addUniqueConstraint('_external_auths_one_per_provider', ['collection_id', 'record_id', 'provider'])
      .execute()
  },
}
