import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import { ForbiddenError } from '../errors/index.js'
import type { Access } from '../rules/index.js'
import type { RecordReader } from './reader.js'

/**
 * The update rule checked again on the record as the update left it, as PostgreSQL's
 * `WITH CHECK` does. The rule on the stored record only decides who may start an update;
 * without this second look a caller could move a record where the rule no longer lets him
 * update it (his todo into another user's list). Same compiled condition, same transaction,
 * so a refusal rolls the update back. `options.updateRuleChecksNewRecord: false` skips it.
 */
export async function assertUpdateRuleHoldsAfter(
  reader: RecordReader,
  trx: Kysely<any>,
  collection: CollectionDefinition,
  id: string,
  access: Access,
): Promise<void> {
  if (access.kind === 'all' || collection.options.updateRuleChecksNewRecord === false) return
  if (await reader.findRow(trx, collection, id, access.condition)) return
  throw new ForbiddenError('The update rule does not allow the record as it would be.')
}
