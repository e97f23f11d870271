import {
  type CollectionDefinition,
  type FieldDefinition,
  type RuleName,
  ruleNames,
} from '../collections/index.js'
import type { Core } from '../core/index.js'
import { checkRules } from '../rules/index.js'
import type { ImportNote, ImportReport } from './import-report.js'
import { translateCollectionRules } from './pocketbase-collection-rules.js'
import { createCollections, removeCollections } from './pocketbase-collections.js'
import type { PocketBaseCollection, PocketBaseData } from './pocketbase-data.js'
import { type RecordCounts, RecordImport, type RecordTarget } from './pocketbase-records.js'
import { type ImportedCollection, POCKETBASE_INSTALLER, translateSchema } from './pocketbase-schema.js'

export interface ImportOptions {
  /** Translate and count, print the report, write nothing. */
  dryRun: boolean
  /** Import beside collections the target has already (never over one of the same name). */
  force: boolean
}

const SUPERUSERS = '_superusers'

/**
 * Imports a PocketBase's collections, rules, records, files and superusers into the
 * Plinth of `core`, and reports what it did and everything it could not translate. The
 * target must have no collections of its own unless `force`. All of it lands or none: after
 * a failure the collections made are deleted again and the files stored removed.
 *
 * @example
 * const data = await PocketBaseData.open('pb_data')
 * const report = await importPocketBase(core, data, { dryRun: false, force: false })
 * process.stdout.write(formatReport(report))
 */
export async function importPocketBase(
  core: Core,
  data: PocketBaseData,
  options: ImportOptions,
): Promise<ImportReport> {
  const existing = core.collections.list()
  const own = existing.filter((collection) => !collection.system).map((collection) => collection.name)
  if (own.length > 0 && !options.force)
    throw new Error(
      `The target already has collections (${own.join(', ')}): import into an empty Plinth, or add --force to import beside them.`,
    )
  const notes: ImportNote[] = []
  const imported = translateSchema(data.collections, existing, notes)
  const clash = imported.find((i) =>
    existing.some((c) => c.name.toLowerCase() === i.definition.name.toLowerCase()),
  )
  if (clash)
    throw new Error(
      `The target already has a collection named ${clash.definition.name}, as the PocketBase data does: rename or delete one of them first.`,
    )
  const records = new RecordImport(data, core.dialect, options.dryRun ? null : core.files)
  const superusers = data.collections.find((c) => c.system && c.name === SUPERUSERS)
  let counts: Map<string, RecordCounts>
  if (options.dryRun) {
    const world = [...existing, ...imported.map((i) => i.definition)]
    translateRules(core, data, imported, world, notes)
    const targets = await recordTargets(core, imported, superusers)
    counts = await records.prepare(targets)
    await records.write(null, targets)
  } else {
    try {
      await createCollections(core, imported, notes)
      const rules = translateRules(core, data, imported, core.collections.list(), notes)
      for (const collection of imported) {
        const own = rules.get(collection)!
        if (ruleNames.some((name) => own[name] !== null))
          await core.collections.update(collection.definition.name, own)
      }
      for (const collection of imported)
        collection.definition = core.collections.get(collection.definition.name)
      const targets = await recordTargets(core, imported, superusers)
      counts = await records.prepare(targets)
      await core.dialect.transaction((trx) => records.write(trx, targets))
    } catch (error) {
      const failure = new Error(
        `The import stopped and was undone (its collections deleted again, its files removed): ${(error as Error).message}`,
      )
      await records.discard()
      await removeCollections(core, existing, failure)
      throw failure
    }
  }
  return {
    source: data.dir,
    target: targetLabel(core),
    dryRun: options.dryRun,
    collections: imported.map(({ definition }) => ({
      name: definition.name,
      type: definition.type,
      records: counts.get(definition.name)?.records ?? 0,
      files: counts.get(definition.name)?.files ?? 0,
    })),
    superusers: {
      imported: counts.get(SUPERUSERS)?.records ?? 0,
      kept: counts.get(SUPERUSERS)?.kept ?? 0,
    },
    notes: [...notes, ...records.notes()],
  }
}

function targetLabel(core: Core): string {
  if (!core.config.databaseUrl) return core.config.dataDir
  const url = new URL(core.config.databaseUrl)
  return `PostgreSQL ${url.host}${url.pathname}`
}

/** Rules of every imported collection, checked against `world`: the collections as they will be, or are. */
function translateRules(
  core: Core,
  data: PocketBaseData,
  imported: ImportedCollection[],
  world: readonly CollectionDefinition[],
  notes: ImportNote[],
): Map<ImportedCollection, Record<RuleName, string | null>> {
  const names = new Map(imported.map(({ source, definition }) => [source.id, definition.name]))
  const superusers = data.collections.find((c) => c.system && c.name === SUPERUSERS)
  if (superusers) names.set(superusers.id, SUPERUSERS)
  const check = checkRules(core.dialect)
  return new Map(
    imported.map((collection) => {
      const definition = world.find((c) => c.name === collection.definition.name) ?? collection.definition
      return [collection, translateCollectionRules(collection.source, definition, world, check, names, notes)]
    }),
  )
}

/** Where records go: the base and auth collections, targets of relations first; then the superusers. */
async function recordTargets(
  core: Core,
  imported: readonly ImportedCollection[],
  superusers: PocketBaseCollection | undefined,
): Promise<RecordTarget[]> {
  const tables = imported.filter(({ definition }) => definition.type !== 'view')
  const byName = new Map(tables.map((t) => [t.definition.name, t]))
  const ordered: ImportedCollection[] = []
  const visit = (collection: ImportedCollection, path: Set<string>) => {
    if (ordered.includes(collection) || path.has(collection.definition.name)) return
    path.add(collection.definition.name)
    for (const field of collection.definition.fields)
      if (field.type === 'relation' && byName.has(field.collection!))
        visit(byName.get(field.collection!)!, path)
    ordered.push(collection)
  }
  for (const table of tables) visit(table, new Set())
  const targets: RecordTarget[] = ordered.map(({ source, definition, fields }) => ({
    source,
    definition,
    fields: new Map(
      [...fields].map(([name, field]) => [name, definition.fields.find((f) => f.id === field.id)!]),
    ),
  }))
  if (!superusers) return targets
  const definition = core.collections.get(SUPERUSERS)
  const fields = new Map<string, FieldDefinition>()
  for (const field of definition.fields)
    if (superusers.fields.some((f) => f.name === field.name)) fields.set(field.name, field)
  const taken = await core.dialect.db.selectFrom(SUPERUSERS).select('email').execute()
  targets.push({
    source: superusers,
    definition,
    fields,
    takenEmails: new Set(taken.map((row) => String(row.email))),
    ignoredEmails: new Set([POCKETBASE_INSTALLER]),
  })
  return targets
}
