import type { Dialect } from '../db/index.js'
import type { CollectionService } from './service.js'
import { bumpSchemaVersion, COLLECTIONS_TABLE, readDefinitions } from './store.js'
import type { CollectionDefinition } from './types.js'

/**
 * Gives collections the times their definitions have elsewhere (a backup, the database they
 * were copied from), matched by id: collections are listed in creation order, and a copy made
 * in one go would otherwise reorder those created within the same millisecond.
 */
export async function restoreDefinitionTimes(
  dialect: Dialect,
  collections: CollectionService,
  times: ReadonlyArray<Pick<CollectionDefinition, 'id' | 'created' | 'updated'>>,
): Promise<void> {
  const byId = new Map(times.map((time) => [time.id, time]))
  await dialect.schemaChange(async (trx) => {
    for (const definition of await readDefinitions(trx)) {
      const time = byId.get(definition.id)
      if (!time) continue
      const { created, updated } = time
      await trx
        .updateTable(COLLECTIONS_TABLE)
        .set({ definition: JSON.stringify({ ...definition, created, updated }), created, updated })
        .where('id', '=', definition.id)
        .execute()
    }
    await bumpSchemaVersion(trx)
  })
  await collections.load()
}
