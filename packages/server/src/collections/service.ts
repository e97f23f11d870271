import { randomUUID } from 'node:crypto'
import type { CompiledQuery, Kysely } from 'kysely'
import type { Logger } from 'pino'
import type { Dialect } from '../db/index.js'
import { BadRequestError, NotFoundError, PlinthError, ValidationError } from '../errors/index.js'
import { type Change, type Compute, creating, deleting, updating } from './collection-changes.js'
import { createView, dropView } from './ddl.js'
import { planChange } from './migration-plan.js'
import { explainStepError } from './plan-messages.js'
import type { CollectionRegistry } from './registry.js'
import type { SchemaFile } from './schema-file.js'
import { planSchemaImport, type SchemaPlan, type SchemaStep } from './schema-plan.js'
import { fillOf } from './search-plan.js'
import {
  bumpSchemaVersion,
  listMigrations,
  type MigrationRecord,
  markMigration,
  readDefinitions,
  readSchemaVersion,
  recordMigration,
  runStatements,
  type StoredStatement,
  toStored,
  writeDefinition,
} from './store.js'
import { type CollectionDefinition, type FieldDefinition, isView } from './types.js'
import { databaseMessage, refusedViewQuery, refuseRelationsToViews } from './view-checks.js'
import { dependentViews, sourcesOf } from './view-dependencies.js'
import { viewFieldsFrom } from './view-fields.js'

/**
 * Checks the rules a change leaves: those of `definition` (null when the change deletes a
 * collection) against `world`, every collection after the change, and those of the other
 * collections against what the change removes from `previous`. Throws a 400 naming the rule.
 */
export type RuleChecker = (
  definition: CollectionDefinition | null,
  world: readonly CollectionDefinition[],
  previous: readonly CollectionDefinition[],
) => void

/**
 * Runs inside the transaction that removes a collection: a delete, or a migration
 * reverted or re-applied that drops it. Other domains register one to remove rows
 * of their own tables that belong to the collection, so they go with it or not at all.
 */
export type CollectionDropListener = (trx: Kysely<any>, collection: CollectionDefinition) => Promise<void>

/** Like a drop listener, for fields a change (or a migration run) removes from a collection that stays. */
export type FieldsDropListener = (
  trx: Kysely<any>,
  collection: CollectionDefinition,
  fields: FieldDefinition[],
) => Promise<void>

/** A migration as run (or, in a dry run, as it would run): each change, and the statements both ways. */
export interface CollectionMigration {
  name: string
  changes: Array<{ before: CollectionDefinition | null; after: CollectionDefinition | null }>
  up: StoredStatement[]
  down: StoredStatement[]
}

/** Thrown out of a dry run's transaction so that it rolls back, carrying what it did. */
class RolledBack extends Error {
  constructor(readonly migration: CollectionMigration) {
    super('dry run')
  }
}

/**
 * Creates, changes and drops collections. Each change runs as one migration: the
 * DDL and the definition row in one transaction, recorded with its down statements.
 */
export class CollectionService {
  readonly #dropListeners: CollectionDropListener[] = []
  readonly #fieldsDropListeners: FieldsDropListener[] = []
  readonly #changeListeners: Array<() => void> = []
  /** The schema version the registry was loaded at; null before the first load. */
  #version: number | null = null

  constructor(
    private readonly dialect: Dialect,
    private readonly registry: CollectionRegistry,
    private readonly checkRules: RuleChecker = () => {},
    private readonly log?: Logger,
  ) {}

  /** Registers a listener that runs in the transaction of every collection removal. */
  onDrop(listener: CollectionDropListener): void {
    this.#dropListeners.push(listener)
  }

  /** Registers a listener that runs in the transaction of every change that removes fields. */
  onFieldsDrop(listener: FieldsDropListener): void {
    this.#fieldsDropListeners.push(listener)
  }

  /** The schema version the registry holds (the same number on every node), or null before the first load. */
  get version(): number | null {
    return this.#version
  }

  /** Registers a listener called after every schema change this service made has committed and loaded. */
  onChange(listener: () => void): void {
    this.#changeListeners.push(listener)
  }

  private async loadChanged(): Promise<void> {
    await this.load()
    for (const listener of this.#changeListeners) listener()
  }

  async load(db: Kysely<any> = this.dialect.db): Promise<void> {
    // The version is read first: definitions newer than it only cause one extra reload.
    const version = await readSchemaVersion(db)
    const definitions = await readDefinitions(db)
    // Loads overlap (a change here, a poll, a stale-schema error): an older one must not win.
    if (this.#version !== null && version < this.#version) return
    this.#version = version
    this.registry.replace(definitions)
  }

  /** Reloads the collections when the CLI or another node changed them; true when it did. */
  async reloadIfChanged(): Promise<boolean> {
    if ((await readSchemaVersion(this.dialect.db)) === this.#version) return false
    await this.load()
    return true
  }

  /**
   * Checks the schema version every `intervalMs` (one indexed one-row read), so changes
   * made elsewhere reach this node without a restart. Returns the function that stops it.
   */
  watch(intervalMs: number, onError: (error: unknown) => void): () => void {
    let isChecking = false
    const timer = setInterval(() => {
      if (isChecking) return
      isChecking = true
      this.reloadIfChanged()
        .catch(onError)
        .finally(() => {
          isChecking = false
        })
    }, intervalMs)
    timer.unref()
    return () => clearInterval(timer)
  }

  list(): CollectionDefinition[] {
    return this.registry.all()
  }

  get(name: string): CollectionDefinition {
    const collection = this.registry.get(name)
    if (!collection) throw new NotFoundError('collection')
    return collection
  }

  async create(input: unknown): Promise<CollectionDefinition> {
    const migration = await this.run([{ compute: creating(input) }])
    return this.get(migration.changes[0]!.after!.name)
  }

  async update(name: string, input: unknown): Promise<CollectionDefinition> {
    const migration = await this.run([{ compute: updating(name, input) }])
    return this.get(migration.changes[0]!.after!.name)
  }

  async delete(name: string): Promise<void> {
    await this.run([{ compute: deleting(name) }])
  }

  /** What `create(input)` would run, checked as `create` checks it, with nothing changed. */
  async previewCreate(input: unknown): Promise<CollectionMigration> {
    return this.run([{ compute: creating(input) }], { dryRun: true })
  }

  /** What `update(name, input)` would run, checked as `update` checks it, with nothing changed. */
  async previewUpdate(name: string, input: unknown): Promise<CollectionMigration> {
    return this.run([{ compute: updating(name, input) }], { dryRun: true })
  }

  /**
   * Makes the collections match a schema file, planned as `plinth schema import` plans it,
   * as one migration. With `dryRun`, answers what it would do and changes nothing.
   */
  async importSchema(
    file: SchemaFile,
    options: { deleteMissing?: boolean; dryRun?: boolean } = {},
  ): Promise<{ plan: SchemaPlan; migration: CollectionMigration }> {
    const plan = planSchemaImport(this.list(), file, {
      deleteMissing: options.deleteMissing === true,
      checkRules: this.checkRules,
    })
    return { plan, migration: await this.applySteps(plan.steps, { dryRun: options.dryRun }) }
  }

  /**
   * Runs the steps of a schema plan as one migration: all of them, or none when one is
   * refused (its error names the step). With `dryRun`, checks them the same way and rolls back.
   */
  async applySteps(
    steps: readonly SchemaStep[],
    options: { dryRun?: boolean } = {},
  ): Promise<CollectionMigration> {
    return this.run(
      steps.map((step) => ({
        compute:
          step.action === 'create'
            ? creating(step.input)
            : step.action === 'update'
              ? updating(step.collection, step.input)
              : deleting(step.collection),
        explain: (error: unknown) => explainStepError(step, error),
      })),
      options,
    )
  }

  /** Creates a built-in collection, without recording a reversible migration. */
  async createSystem(db: Kysely<any>, definition: CollectionDefinition): Promise<void> {
    const world = await readDefinitions(db)
    if (world.some((c) => c.name === definition.name)) return
    await runStatements(db, [
      ...planChange(this.dialect, null, definition, [...world, definition]),
      ...writeDefinition(this.dialect, null, definition),
    ])
  }

  async migrations(): Promise<MigrationRecord[]> {
    return listMigrations(this.dialect.db)
  }

  /** Undoes the newest applied collection migration; returns it, or null when none is left. */
  async migrateDown(): Promise<MigrationRecord | null> {
    const reverted = await this.dialect.schemaChange(async (trx) => {
      const top = (await listMigrations(trx)).filter((m) => m.reverted === null).pop()
      if (!top) return null
      await this.runDropping(trx, top.down)
      await markMigration(trx, top.id, new Date().toISOString())
      await bumpSchemaVersion(trx)
      return top
    })
    await this.loadChanged()
    return reverted
  }

  /** Re-applies the oldest reverted migration; returns it, or null when none is pending. */
  async migrateUp(): Promise<MigrationRecord | null> {
    const applied = await this.dialect.schemaChange(async (trx) => {
      const next = (await listMigrations(trx)).find((m) => m.reverted !== null)
      if (!next) return null
      await this.runDropping(trx, next.up)
      await markMigration(trx, next.id, null, new Date().toISOString())
      await bumpSchemaVersion(trx)
      return next
    })
    await this.loadChanged()
    return applied
  }

  /**
   * Runs the changes in one transaction under the schema lock, recorded as one migration
   * whose down statements undo them in reverse order. A dry run does all the same work,
   * so the database itself checks the change, and then rolls it back.
   */
  private async run(
    changes: ReadonlyArray<{ compute: Compute; explain?: (error: unknown) => unknown }>,
    options: { dryRun?: boolean } = {},
  ): Promise<CollectionMigration> {
    const migration = await this.dialect
      .schemaChange(async (trx) => {
        const done: Array<Pick<Change, 'before' | 'after'>> = []
        const up: CompiledQuery[] = []
        const down: CompiledQuery[] = []
        const names: string[] = []
        for (const { compute, explain } of changes) {
          try {
            const applied = await this.applyOne(trx, compute)
            done.push({ before: applied.change.before, after: applied.change.after })
            names.push(applied.change.name)
            up.push(...applied.up)
            down.unshift(...applied.down)
          } catch (error) {
            throw explain ? explain(error) : error
          }
        }
        const migration: CollectionMigration = {
          name: names.join('; '),
          changes: done,
          up: toStored(up),
          down: toStored(down),
        }
        if (options.dryRun) throw new RolledBack(migration)
        if (done.length === 0) return migration
        await recordMigration(trx, {
          id: randomUUID(),
          name: migration.name,
          up: migration.up,
          down: migration.down,
          applied: new Date().toISOString(),
        })
        await bumpSchemaVersion(trx)
        return migration
      })
      .catch((error) => {
        if (error instanceof RolledBack) return error.migration
        throw error
      })
    if (!options.dryRun && migration.changes.length > 0) await this.loadChanged()
    return migration
  }

  /** One change inside the migration's transaction: its statements run, its definitions written. */
  private async applyOne(
    trx: Kysely<any>,
    compute: Compute,
  ): Promise<{ change: Change; up: CompiledQuery[]; down: CompiledQuery[] }> {
    // Read inside the lock: another node may have changed the schema since we loaded it.
    const world = await readDefinitions(trx)
    const change = compute(world)
    const replaced = new Map(change.rewrites.map(([b, a]) => [b.id, a]))
    if (change.before) replaced.set(change.before.id, change.after!)
    const worldAfter = world.flatMap((c) =>
      replaced.has(c.id) ? (replaced.get(c.id) ? [replaced.get(c.id)!] : []) : [c],
    )
    if (!change.before && change.after) worldAfter.push(change.after)
    if (change.after) refuseRelationsToViews(change.after, worldAfter)

    const own = planChange(this.dialect, change.before, change.after, worldAfter)
    const ownDown = planChange(this.dialect, change.after, change.before, world)
    // The views reading a changed collection are dropped around the change and made again, so
    // a table rebuilt or altered under them is read afresh, and a change that breaks one is refused.
    const dependents =
      change.before && change.after && own.length > 0
        ? dependentViews(worldAfter, change.after.name).filter((v) => v.id !== change.before!.id)
        : []
    const dropDependents = [...dependents].reverse().map((v) => dropView(this.dialect, v.name))
    await runStatements(trx, dropDependents)
    try {
      await this.runPlanned(trx, own)
    } catch (error) {
      throw change.after && isView(change.after) ? refusedViewQuery(error) : this.explain(error)
    }
    if (change.after && isView(change.after)) {
      const view = change.after
      const columns = await this.dialect.viewColumns(trx, view.name).catch((error) => {
        throw refusedViewQuery(error)
      })
      view.fields = viewFieldsFrom(columns, view, sourcesOf(view, worldAfter))
    }
    for (const view of dependents) {
      try {
        await runStatements(trx, [createView(this.dialect, view)])
        // SQLite resolves a view's names when it is read, not when it is created.
        await this.dialect.viewColumns(trx, view.name)
      } catch (error) {
        throw new BadRequestError(
          `The change breaks the view ${view.name}: ${databaseMessage(error)}. Change or delete the view first.`,
          'validation_failed',
          { name: { code: 'in_use', message: `read by the view ${view.name}` } },
        )
      }
    }
    this.checkRules(change.after, worldAfter, world)

    const definitions = [
      ...writeDefinition(this.dialect, change.before, change.after),
      ...change.rewrites.flatMap(([b, a]) => writeDefinition(this.dialect, b, a)),
    ]
    await runStatements(trx, definitions)
    const recreate = dependents.map((v) => createView(this.dialect, v))
    const up = [...dropDependents, ...own, ...recreate, ...definitions]
    const down = [
      ...dropDependents,
      ...ownDown,
      ...recreate,
      ...writeDefinition(this.dialect, change.after, change.before),
      ...change.rewrites.flatMap(([b, a]) => writeDefinition(this.dialect, a, b)),
    ]
    await this.dropped(trx, world, worldAfter)
    return { change, up, down }
  }

  /** Runs a change's statements as planned, filling new search indexes in steps that the log follows. */
  private async runPlanned(trx: Kysely<any>, statements: CompiledQuery[]): Promise<void> {
    const filled = new Set<unknown>()
    for (const statement of statements) {
      const index = fillOf(statement)
      if (!index) {
        await runStatements(trx, [statement])
        continue
      }
      if (filled.has(index)) continue
      filled.add(index)
      const started = Date.now()
      await this.dialect.fullText.fillInSteps(trx, index, (done, total) => {
        if (total > 0)
          this.log?.info(
            { collection: index.table, done, total, ms: Date.now() - started },
            `search index of ${index.table}: ${done}/${total} records`,
          )
      })
    }
  }

  /** Runs stored statements of a migration, telling the listeners about collections they remove. */
  private async runDropping(trx: Kysely<any>, statements: StoredStatement[]): Promise<void> {
    const before = await readDefinitions(trx)
    await runStatements(trx, statements)
    await this.dropped(trx, before, await readDefinitions(trx))
  }

  private async dropped(
    trx: Kysely<any>,
    before: CollectionDefinition[],
    after: CollectionDefinition[],
  ): Promise<void> {
    // A rename keeps the id, so only collections whose id is gone count; fields likewise.
    const kept = new Map(after.map((c) => [c.id, c]))
    for (const collection of before) {
      const now = kept.get(collection.id)
      if (!now) {
        for (const listener of this.#dropListeners) await listener(trx, collection)
        continue
      }
      const fieldIds = new Set(now.fields.map((field) => field.id))
      const gone = collection.fields.filter((field) => !fieldIds.has(field.id))
      if (gone.length > 0) for (const listener of this.#fieldsDropListeners) await listener(trx, now, gone)
    }
  }

  /** A change that the stored records cannot take (say a unique index over duplicates) is the caller's 400. */
  private explain(error: unknown): unknown {
    if (error instanceof PlinthError) return error
    const extension = this.dialect.fullText.missingExtension(error)
    if (extension)
      return new ValidationError({
        'search.fuzzy': {
          code: 'unavailable',
          message: `needs the PostgreSQL extension ${extension}, which could not be created: ${databaseMessage(error)}`,
        },
      })
    const violation = this.dialect.constraintViolation(error)
    if (violation?.kind === 'unique')
      return new ValidationError({
        indexes: {
          code: 'duplicate_values',
          message: 'existing records hold duplicate values for a unique index',
        },
      })
    if (violation?.kind === 'foreign_key')
      return new ValidationError({
        fields: { code: 'dangling_relation', message: 'existing records would point at missing records' },
      })
    return error
  }
}
