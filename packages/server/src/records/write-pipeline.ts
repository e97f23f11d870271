import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import {
  type CollectionDefinition,
  type CollectionRegistry,
  emailAsPasswordProblem,
} from '../collections/index.js'
import { hashPassword } from '../crypto/index.js'
import type { Dialect } from '../db/index.js'
import { ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors/index.js'
import { type Caller, superuser } from '../identity/index.js'
import { assertMayTry, authorize } from '../rules/index.js'
import { cascadedDeletes } from './cascade.js'
import { checkHookFileValues, resolveFileEdits } from './file-values.js'
import { type AfterHookName, type BeforeHookName, RecordHooks } from './hooks.js'
import type { LoadedRecord, RecordReader } from './reader.js'
import { ifMatchAllows } from './serialize.js'
import type { ChangeListener, ChangeUnit, RecordChange, RecordData, WriteGuard } from './types.js'
import { assertUpdateRuleHoldsAfter } from './update-check.js'
import { type CleanBody, validateBody } from './validator.js'
import { RecordWriter } from './writer.js'

export interface WriteOptions {
  fields?: string
  expand?: string
  ifMatch?: string
  query?: Record<string, unknown>
  /** Lets a superuser's update set an auth record's email; only the email-change flow passes it. */
  isEmailChange?: boolean
  /** Carried into the log lines of hooks that fail after commit. */
  requestId?: string
}

/** Work that waits for the transaction to commit: after-hooks, and what later listens to commits. */
export interface WriteUnit extends ChangeUnit {
  readonly afterCommit: (() => Promise<void>)[]
  /** Whether a record changed, so commit listeners are told. */
  changed: boolean
}

export type Prepared = Awaited<ReturnType<WritePipeline['prepare']>>

/** What hooks receive besides the write itself, under names the write does not use; `unit` is null after commit. */
type ContextFactory = (caller: Caller, db: Kysely<any>, unit: WriteUnit | null) => Record<string, unknown>

/**
 * Every record write goes through here, whoever asks (the REST API, batch, auth
 * flows, the CLI, hooks, jobs): validate → before-hooks (which may change the
 * record; validated again) → rule check → write → change listeners, all inside the
 * transaction; after commit, the after-hooks, which see only committed data.
 */
export class WritePipeline {
  readonly hooks = new RecordHooks()
  readonly listeners: ChangeListener[] = []
  readonly guards: WriteGuard[] = []
  /** Told after each commit that changed records, before the after-hooks run, with its newest event. */
  readonly commitListeners: ((newestEvent: number) => void)[] = []
  hookContext: ContextFactory = () => ({})
  readonly #writer: RecordWriter

  constructor(
    private readonly dialect: Dialect,
    private readonly registry: CollectionRegistry,
    private readonly reader: RecordReader,
    private readonly log: Logger | undefined,
  ) {
    this.#writer = new RecordWriter(dialect)
  }

  /** Runs `work` in a transaction, then what it left for after the commit, once. */
  async transaction<T>(work: (trx: Kysely<any>, unit: WriteUnit) => Promise<T>): Promise<T> {
    let unit: WriteUnit = { afterCommit: [], changed: false, newestEvent: 0 }
    const result = await this.dialect.transaction((trx) => {
      // A rerun after a deadlock starts clean: the aborted attempt's effects never happened.
      unit = { afterCommit: [], changed: false, newestEvent: 0 }
      return work(trx, unit)
    })
    if (unit.changed) for (const listener of this.commitListeners) listener(unit.newestEvent)
    for (const effect of unit.afterCommit) await effect()
    return result
  }

  /** Checks done before the transaction: access, the body, and the slow password hash. */
  async prepare(
    caller: Caller,
    collection: CollectionDefinition,
    action: 'create' | 'update',
    body: unknown,
    options: WriteOptions,
  ) {
    assertMayTry(caller, collection, action)
    const clean = validateBody(collection, body, {
      mode: action,
      isSuperuser: caller.isSuperuser,
      isEmailChange: action === 'update' && options.isEmailChange === true && caller.isSuperuser,
    })
    for (const guard of this.guards) guard(caller, action, collection, writtenFields(clean))
    if (clean.password !== undefined) clean.passwordHash = await hashPassword(clean.password)
    return { collection, clean, body: body as Record<string, unknown> }
  }

  async create(
    trx: Kysely<any>,
    unit: WriteUnit,
    caller: Caller,
    prepared: Prepared,
    options: WriteOptions,
  ): Promise<LoadedRecord> {
    const { collection, body } = prepared
    let { clean } = prepared
    const uploads = resolveFileEdits(collection, clean, null)
    if (this.hooks.has(collection.name, 'beforeCreate')) {
      const record: RecordData = { ...clean.values }
      if (clean.id) record.id = clean.id
      await this.runBefore('beforeCreate', trx, unit, caller, collection, record, null)
      clean = this.revalidate(collection, 'create', record, clean, clean.values)
    }
    const access = authorize(caller, collection, 'create', this.reader.filterContext(), {
      body,
      query: options.query,
    })
    const inserted = await this.#writer.insert(trx, collection, clean)
    // A conditional create rule is checked against the stored candidate, inside the transaction.
    const loaded =
      access.kind === 'where'
        ? await this.reader.load(trx, collection, String(inserted.id), caller, access.condition)
        : await this.reader.present(trx, collection, inserted, caller)
    if (!loaded) throw new ForbiddenError('The create rule does not allow this record.')
    const record = await this.asSuperuser(trx, collection, loaded)
    await this.notify(trx, unit, {
      written: writtenFields(clean),
      action: 'create',
      collection,
      record,
      previous: null,
      caller,
      uploads,
    })
    this.queueAfter(unit, 'afterCreate', caller, collection, record, null, options)
    return loaded
  }

  async update(
    trx: Kysely<any>,
    unit: WriteUnit,
    caller: Caller,
    prepared: Prepared,
    id: string,
    options: WriteOptions,
  ): Promise<LoadedRecord> {
    const { collection, body } = prepared
    let { clean } = prepared
    const stored = await this.reader.findRowForWrite(trx, collection, id)
    const previous = stored
      ? (await this.reader.toRecords(trx, collection, [stored], superuser))[0]!
      : undefined
    const access = this.reader.access(caller, collection, 'update', {
      body,
      query: options.query,
      existing: previous,
    })
    const visible =
      stored && (access.kind === 'all' || (await this.reader.findRow(trx, collection, id, access.condition)))
    if (!stored || !visible || !previous) throw new NotFoundError()
    if (!ifMatchAllows(options.ifMatch, stored._version)) throw new PreconditionFailedError()
    const uploads = resolveFileEdits(collection, clean, previous)
    if (this.hooks.has(collection.name, 'beforeUpdate')) {
      const record: RecordData = { ...previous, ...clean.values }
      await this.runBefore('beforeUpdate', trx, unit, caller, collection, record, previous)
      clean = this.revalidate(collection, 'update', changedValues(record, previous, clean), clean, {
        ...previous,
        ...clean.values,
      })
    }
    const sameAsEmail =
      clean.password === undefined ? null : emailAsPasswordProblem(clean.password, stored.email)
    if (sameAsEmail) throw new ValidationError({ password: sameAsEmail })
    await this.#writer.update(trx, collection, id, clean)
    await assertUpdateRuleHoldsAfter(this.reader, trx, collection, id, access)
    const loaded = (await this.reader.load(trx, collection, id, caller))!
    const record = await this.asSuperuser(trx, collection, loaded)
    await this.notify(trx, unit, {
      written: writtenFields(clean),
      action: 'update',
      collection,
      record,
      previous,
      caller,
      uploads,
    })
    this.queueAfter(unit, 'afterUpdate', caller, collection, record, previous, options)
    return loaded
  }

  async delete(
    trx: Kysely<any>,
    unit: WriteUnit,
    caller: Caller,
    collection: CollectionDefinition,
    id: string,
    options: WriteOptions,
  ): Promise<void> {
    const access = this.reader.access(caller, collection, 'delete', { query: options.query })
    const stored = await this.reader.findRowForWrite(
      trx,
      collection,
      id,
      access.kind === 'where' ? access.condition : undefined,
    )
    if (!stored) throw new NotFoundError()
    if (!ifMatchAllows(options.ifMatch, stored._version)) throw new PreconditionFailedError()
    const previous = (await this.reader.toRecords(trx, collection, [stored], superuser))[0]!
    await this.runBefore('beforeDelete', trx, unit, caller, collection, previous, previous)
    const cascaded =
      this.registry.cascadingInto(collection.name).length > 0
        ? await this.cascadeBefore(trx, unit, caller, collection, id)
        : []
    await this.#writer.delete(trx, collection, id)
    for (const removed of cascaded) {
      await this.notify(trx, unit, {
        action: 'delete',
        ...removed,
        previous: removed.record,
        written: [],
        caller,
      })
      this.queueAfter(
        unit,
        'afterDelete',
        caller,
        removed.collection,
        removed.record,
        removed.record,
        options,
        true,
      )
    }
    await this.notify(trx, unit, {
      action: 'delete',
      collection,
      record: previous,
      previous,
      written: [],
      caller,
    })
    this.queueAfter(unit, 'afterDelete', caller, collection, previous, previous, options)
  }

  /** Loads each record the delete will cascade to, and lets its before-hooks refuse. */
  private async cascadeBefore(
    trx: Kysely<any>,
    unit: WriteUnit,
    caller: Caller,
    collection: CollectionDefinition,
    id: string,
  ) {
    const removed: { collection: CollectionDefinition; record: RecordData }[] = []
    for (const target of await cascadedDeletes(trx, this.registry, collection, id)) {
      const row = await this.reader.findRow(trx, target.collection, target.id)
      if (!row) continue
      const record = (await this.reader.toRecords(trx, target.collection, [row], superuser))[0]!
      await this.runBefore('beforeDelete', trx, unit, caller, target.collection, record, record, true)
      removed.push({ collection: target.collection, record })
    }
    return removed
  }

  private async runBefore(
    name: BeforeHookName,
    trx: Kysely<any>,
    unit: WriteUnit,
    caller: Caller,
    collection: CollectionDefinition,
    record: RecordData,
    previous: RecordData | null,
    isCascade = false,
  ): Promise<void> {
    const hooks = this.hooks.for(collection.name, name)
    if (hooks.length === 0) return
    const context = this.hookContext(caller, trx, unit)
    for (const hook of hooks) {
      // The services come last: V8 (Node 20) builds an object whose spread comes first slowly, a few µs a hook.
      await hook({
        collection: collection.name,
        definition: collection,
        record,
        previous,
        caller,
        tx: trx,
        isCascade,
        ...context,
      })
    }
  }

  private queueAfter(
    unit: WriteUnit,
    name: AfterHookName,
    caller: Caller,
    collection: CollectionDefinition,
    record: RecordData,
    previous: RecordData | null,
    options: WriteOptions,
    isCascade = false,
  ): void {
    const hooks = this.hooks.for(collection.name, name)
    if (hooks.length === 0) return
    unit.afterCommit.push(async () => {
      const db = this.dialect.db
      const context = this.hookContext(caller, db, null)
      for (const hook of hooks) {
        try {
          await hook({
            collection: collection.name,
            definition: collection,
            record: structuredClone(record),
            previous,
            caller,
            tx: db,
            isCascade,
            ...context,
          })
        } catch (error) {
          // The write is committed: an after-hook's failure is the hook's to report, not the client's.
          this.log?.error(
            {
              err: error,
              hook: name,
              collection: collection.name,
              recordId: record.id,
              reqId: options.requestId,
            },
            'an after-hook failed',
          )
        }
      }
    })
  }

  /**
   * Validates a record a before-hook may have changed; the hook is trusted, the data is not.
   * Its file fields may hold only names in `allowedFiles` (the record's files and this write's uploads).
   */
  private revalidate(
    collection: CollectionDefinition,
    mode: 'create' | 'update',
    values: RecordData,
    original: CleanBody,
    allowedFiles: RecordData,
  ): CleanBody {
    const fields: RecordData = { ...values }
    for (const field of collection.fields) if (field.type === 'file') delete fields[field.name]
    // Only the values are taken: the id, the password and the files stay the request's own.
    const checked = validateBody(collection, fields, { mode, isSuperuser: true, ignorePassword: true }).values
    Object.assign(checked, checkHookFileValues(collection, values, allowedFiles))
    return {
      values: checked,
      id: original.id,
      password: original.password,
      passwordHash: original.passwordHash,
    }
  }

  private async asSuperuser(
    db: Kysely<any>,
    collection: CollectionDefinition,
    loaded: LoadedRecord,
  ): Promise<RecordData> {
    return (await this.reader.toRecords(db, collection, [loaded.row], superuser))[0]!
  }

  private async notify(db: Kysely<any>, unit: WriteUnit, change: RecordChange): Promise<void> {
    unit.changed = true
    for (const listener of this.listeners) await listener(db, change, unit)
  }
}

/** The fields an update writes: those the body set, and any a before-hook changed. */
function changedValues(record: RecordData, previous: RecordData, clean: CleanBody): RecordData {
  const changed: RecordData = {}
  for (const [name, value] of Object.entries(record)) {
    if (Object.hasOwn(clean.values, name) || JSON.stringify(value) !== JSON.stringify(previous[name]))
      changed[name] = value
  }
  return changed
}

export function writtenFields(clean: CleanBody): string[] {
  const names = Object.keys(clean.values)
  for (const name of Object.keys(clean.files ?? {})) if (!Object.hasOwn(clean.values, name)) names.push(name)
  if (clean.password !== undefined || clean.passwordHash !== undefined) names.push('password')
  return names
}
