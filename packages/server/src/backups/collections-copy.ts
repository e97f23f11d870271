import {
  applySchemaStep,
  type CollectionDefinition,
  type CollectionService,
  canonical,
  explainStepError,
  exportSchema,
  parseSchemaFile,
  planSchemaImport,
  restoreDefinitionTimes,
  ruleNames,
  type SchemaFile,
} from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { checkRules } from '../rules/index.js'

/**
 * Makes the target's collections those of another database, with the same ids, so tables,
 * junction tables and every system row keyed by a collection or field id line up. The user
 * collections come from `schema` (a schema file); `definitions` are all of the other
 * database's, for the system collections and the times of each. Run again after an
 * interruption, it applies only what is still missing.
 */
export async function copyCollections(
  dialect: Dialect,
  collections: CollectionService,
  schema: SchemaFile,
  definitions: readonly CollectionDefinition[],
): Promise<void> {
  const plan = planSchemaImport(collections.list(), schema, { checkRules: checkRules(dialect) })
  for (const step of plan.steps) {
    try {
      await applySchemaStep(collections, step)
    } catch (error) {
      throw explainStepError(step, error)
    }
  }
  for (const source of definitions.filter((definition) => definition.system)) {
    const current = collections.list().find((collection) => collection.id === source.id)
    if (!current) throw new Error(`This Plinth has no system collection ${source.name}.`)
    if (canonical(systemPatch(current)) !== canonical(systemPatch(source)))
      await collections.update(current.name, systemPatch(source))
  }
  await restoreDefinitionTimes(dialect, collections, definitions)
}

/** The schema file of a database's collections, as `plinth schema export` writes it. */
export function schemaOf(definitions: readonly CollectionDefinition[]): SchemaFile {
  return parseSchemaFile(exportSchema(definitions))
}

/** What may differ in a system collection (a superuser's password policy, say): all but its name and type. */
function systemPatch(definition: CollectionDefinition) {
  return {
    fields: definition.fields,
    // Built-in indexes are the collection type's own; the service adds them again.
    indexes: definition.indexes.filter((index) => !index.id.startsWith('sys_')),
    ...Object.fromEntries(ruleNames.map((rule) => [rule, definition[rule]])),
    options: definition.options,
    ...(definition.search ? { search: definition.search } : {}),
  }
}
