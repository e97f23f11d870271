import type { SchemaStep } from './schema-plan.js'
import type { CollectionService } from './service.js'

/** Runs one step of a schema plan through the collection service, as one migration. */
export async function applySchemaStep(collections: CollectionService, step: SchemaStep): Promise<void> {
  if (step.action === 'create') await collections.create(step.input)
  else if (step.action === 'update') await collections.update(step.collection, step.input)
  else await collections.delete(step.collection)
}
