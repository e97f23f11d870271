import { CompiledQuery } from 'kysely'

/** Enough for every column set a collection's writes use in practice; past it, statements are built each time. */
const MAX_SHAPES = 64

/**
 * The SQL of statements whose text depends only on their shape (a table and its columns),
 * built by Kysely once per shape and then reused with each call's values: building and
 * compiling a small insert costs more than SQLite takes to run it.
 */
export class StatementShapes {
  readonly #sql = new Map<string, string | null>()

  /**
   * `build` makes the statement for `values`; its SQL is kept for the shape only when it
   * binds exactly these values in this order, so later values can take their places.
   */
  compile(shape: string, values: readonly unknown[], build: () => CompiledQuery): CompiledQuery {
    const known = this.#sql.get(shape)
    if (known) return CompiledQuery.raw(known, values as unknown[])
    const compiled = build()
    if (known === undefined && this.#sql.size < MAX_SHAPES)
      this.#sql.set(shape, bindsExactly(compiled, values) ? compiled.sql : null)
    return compiled
  }
}

function bindsExactly(compiled: CompiledQuery, values: readonly unknown[]): boolean {
  const { parameters } = compiled
  return (
    parameters.length === values.length && parameters.every((parameter, index) => parameter === values[index])
  )
}
