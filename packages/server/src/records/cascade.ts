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
    for (const { owner, field } of registry.cascadingInto(target.name)) {
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
  await visit(collection, id)
  return found
}
