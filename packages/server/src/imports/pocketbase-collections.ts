import {
  applySchemaStep,
  type CollectionDefinition,
  explainStepError,
  exportSchema,
  parseSchemaFile,
  planSchemaImport,
  ruleNames,
} from '../collections/index.js'
import type { Core } from '../core/index.js'
import { checkRules } from '../rules/index.js'
import type { ImportNote } from './import-report.js'
import type { ImportedCollection } from './pocketbase-schema.js'

/**
 * Base and auth collections as one planned schema import (relations between them, cycles
 * included, resolve as `plinth schema import` resolves them), then each view, whose query
 * PocketBase wrote for its SQLite: one Plinth refuses is noted and left out of `imported`.
 */
export async function createCollections(
  core: Core,
  imported: ImportedCollection[],
  notes: ImportNote[],
): Promise<void> {
  const tables = imported.filter(({ definition }) => definition.type !== 'view')
  const schema = parseSchemaFile(exportSchema(tables.map(({ definition }) => definition)))
  const plan = planSchemaImport(core.collections.list(), schema, { checkRules: checkRules(core.dialect) })
  for (const step of plan.steps) {
    try {
      await applySchemaStep(core.collections, step)
    } catch (error) {
      throw explainStepError(step, error)
    }
  }
  let views = imported.filter(({ definition }) => definition.type === 'view')
  const refusals = new Map<ImportedCollection, string>()
  // A view may read another view: each round makes those whose sources exist by now.
  for (let progress = true; progress && views.length > 0; ) {
    progress = false
    for (const view of views) {
      const { id, name, viewQuery } = view.definition
      try {
        await core.collections.create({ id, name, type: 'view', viewQuery })
        progress = true
        refusals.delete(view)
      } catch (error) {
        refusals.set(view, (error as Error).message)
      }
    }
    views = views.filter((view) => refusals.has(view))
  }
  for (const [view, reason] of refusals) {
    notes.push({
      subject: view.definition.name,
      problem: `Plinth refused its query (${reason}); the view is not imported`,
    })
    imported.splice(imported.indexOf(view), 1)
  }
}

/**
 * After a failure, deletes the collections an import made, as a schema import of the
 * collections there were `before` (with --delete-missing) would: relations between them and
 * cycles resolve, and the collections that were there stay as they are. Their rules go
 * first, so that none still names an auth field a deletion removes.
 */
export async function removeCollections(
  core: Core,
  before: readonly CollectionDefinition[],
  cause: Error,
): Promise<void> {
  const kept = new Set(before.map((collection) => collection.id))
  const closed = Object.fromEntries(ruleNames.map((name) => [name, null]))
  try {
    for (const collection of core.collections.list())
      if (!kept.has(collection.id) && ruleNames.some((name) => collection[name] !== null))
        await core.collections.update(collection.name, closed)
    const plan = planSchemaImport(core.collections.list(), parseSchemaFile(exportSchema(before)), {
      deleteMissing: true,
      checkRules: checkRules(core.dialect),
    })
    for (const step of plan.steps) await applySchemaStep(core.collections, step)
  } catch (error) {
    cause.message = `${cause.message} (removing the collections made so far failed too: ${(error as Error).message})`
  }
}
