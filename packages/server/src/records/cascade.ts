import type { Kysely } from 'kysely'
import {
  type CollectionDefinition,
  type CollectionRegistry,
  hasColumn,
  junctionTableName,
} from '../collections/index.js'

export interface CascadedRecord {
  collection: CollectionDefinition
  id: string
}

/**
 * The records that deleting `collection/id` removes through `onDelete: cascade`,
 * found before the delete so that their hooks and listeners run: the database
 * removes them by foreign key without telling anyone. Deepest first, each once.
 */
export async function cascadedDeletes(
  db: Kysely<any>,
  registry: CollectionRegistry,
  collection: CollectionDefinition,
  id: string,
): Promise<CascadedRecord[]> {
  const found: CascadedRecord[] = []
  const seen = new Set<string>([`${collection.name}/${id}`])
  async function visit(target: CollectionDefinition, targetId: string): Promise<void> {
    for (const owner of registry.all()) {
      for (const field of owner.fields) {
        if (field.type !== 'relation' || field.collection !== target.name || field.onDelete !== 'cascade')
          continue
        const rows = hasColumn(field)
          ? await db.selectFrom(owner.name).select('id').where(field.name, '=', targetId).execute()
          : await db
              .selectFrom(junctionTableName(field))
              .select('source as id')
              .where('target', '=', targetId)
              .execute()
        for (const row of rows) {
          const key = `${owner.name}/${row.id}`
          if (seen.has(key)) continue
          seen.add(key)
          await visit(owner, row.id as string)
          found.push({ collection: owner, id: row.id as string })
        }
      }
    }
  }
  await visit(collection, id)
  return found
}

/** Whether any collection cascades deletes from this one (so a delete must look for them). */
export function hasCascadingRelations(
  registry: CollectionRegistry,
  collection: CollectionDefinition,
): boolean {
  return registry
    .all()
    .some((owner) =>
      owner.fields.some(
        (field) =>
          field.type === 'relation' && field.collection === collection.name && field.onDelete === 'cascade',
      ),
    )
}
