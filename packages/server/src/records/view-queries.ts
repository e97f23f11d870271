import { CompiledQuery, type Kysely } from 'kysely'
import type { CollectionDefinition } from '../collections/index.js'
import type { Caller } from '../identity/index.js'
import { callerKey, readsOnlyTheCaller } from './kept-statements.js'
import { ALIAS, type RecordReader } from './reader.js'

/** Stands for the record id in a kept statement; a symbol, so no stored value can collide with it. */
const ID_SLOT = Symbol('record id')

/**
 * Reads one record by id under the caller's view rule. Compiling the rule and the
 * statement is most of what such a read costs, so the statement is kept per caller.
 */
export class ViewQueries {
  readonly #kept = new WeakMap<CollectionDefinition, WeakMap<object, CompiledQuery>>()

  constructor(private readonly reader: RecordReader) {}

  async find(
    caller: Caller,
    collection: CollectionDefinition,
    id: string,
    query: Record<string, unknown>,
    db: Kysely<any> = this.reader.dialect.db,
  ): Promise<Record<string, unknown> | undefined> {
    const statement = this.statement(caller, collection, query)
    if (!statement) return this.reader.findRow(db, collection, id)
    const parameters = statement.parameters.map((value) => (value === ID_SLOT ? id : value))
    const result = await db.executeQuery<Record<string, unknown>>(
      CompiledQuery.raw(statement.sql, parameters),
    )
    return result.rows[0]
  }

  /** The statement for this caller, or undefined when the rule lets it see every record. */
  private statement(
    caller: Caller,
    collection: CollectionDefinition,
    query: Record<string, unknown>,
  ): CompiledQuery | undefined {
    const rule = collection.viewRule
    const isKept = !caller.isSuperuser && rule !== null && readsOnlyTheCaller(rule)
    const key = callerKey(caller)
    if (isKept) {
      const kept = this.#kept.get(collection)?.get(key)
      if (kept) return kept
    }
    const access = this.reader.access(caller, collection, 'view', { query })
    if (access.kind === 'all') return undefined
    const statement = this.reader
      .select(this.reader.dialect.db, collection)
      .where(`${ALIAS}.id`, '=', ID_SLOT)
      .where(access.condition)
      .compile()
    if (isKept) {
      let byCaller = this.#kept.get(collection)
      if (!byCaller) {
        byCaller = new WeakMap()
        this.#kept.set(collection, byCaller)
      }
      byCaller.set(key, statement)
    }
    return statement
  }
}
