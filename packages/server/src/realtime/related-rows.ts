import type { CollectionRegistry } from '../collections/index.js'
import type { RecordData, RecordService } from '../records/index.js'

/**
 * The related rows that rules and filters of one batch of events read, fetched together.
 * A lookup of a row not fetched yet answers "missing" and notes the id, so one evaluation
 * collects every row it lacks at its current depth; the batch then reads all of them in
 * one query per collection and evaluates again.
 */
export class RelatedRows {
  readonly #rows = new Map<string, Map<string, RecordData | null>>()
  #missing = new Map<string, Set<string>>()
  #missed = false

  constructor(
    private readonly records: RecordService,
    private readonly registry: CollectionRegistry,
  ) {}

  readonly lookup = (collection: string, id: string): RecordData | undefined => {
    const known = this.#rows.get(collection)
    if (known?.has(id)) return known.get(id) ?? undefined
    let ids = this.#missing.get(collection)
    if (!ids) {
      ids = new Set()
      this.#missing.set(collection, ids)
    }
    ids.add(id)
    this.#missed = true
    return undefined
  }

  /** Runs an evaluation and tells whether it read a row not fetched yet, so its answer does not count. */
  tracking<T>(evaluate: () => T): { value: T; complete: boolean } {
    this.#missed = false
    const value = evaluate()
    return { value, complete: !this.#missed }
  }

  async fetchMissing(): Promise<void> {
    const missing = this.#missing
    this.#missing = new Map()
    await Promise.all(
      [...missing].map(async ([name, ids]) => {
        const collection = this.registry.get(name)
        const known = this.#rows.get(name) ?? new Map<string, RecordData | null>()
        this.#rows.set(name, known)
        const found = collection ? await this.records.rowsForRules(collection, [...ids]) : []
        for (const id of ids) known.set(id, null)
        for (const row of found) known.set(String(row.id), row)
      }),
    )
  }
}
