/*
 * Sort grammar (EBNF); whitespace may surround items:
 *
 *   sort = [ item , { "," , item } ] ;                  (* at most 8 items *)
 *   item = [ "-" | "+" ] , ( path | "@random" ) ;       (* "-" descending *)
 *   path = name , { "." , name } ;                      (* single relations only *)
 *
 * Null sorts first ascending and last descending on every database (as SQLite does
 * natively), and `id` ascending always ends the list, so pages never overlap.
 */
import { type RawBuilder, sql } from 'kysely'
import { FilterError } from '../errors/index.js'
import { guardFor } from './filter-compiler.js'
import type { FilterContext } from './filter-context.js'
import { resolvePath } from './operand-resolver.js'
import { AliasGenerator, pathSql } from './path-sql.js'

const MAX_SORT_KEYS = 8
const MAX_SORT_LENGTH = 1024

/** One ORDER BY key, for `query.orderBy(item.expression, item.direction)`. */
export interface SortItem {
  expression: RawBuilder<unknown>
  direction: 'asc' | 'desc'
}

const itemPattern = /^([+-]?)\s*(@random|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/

export function compileSort(input: string, ctx: FilterContext): SortItem[] {
  const fail = (position: number, why: string): never => {
    throw new FilterError(position, why, 'sort')
  }
  if (input.length > MAX_SORT_LENGTH) {
    fail(MAX_SORT_LENGTH, `The sort is longer than ${MAX_SORT_LENGTH} characters`)
  }
  const aliases = new AliasGenerator(ctx.alias)
  const guard = guardFor(ctx, aliases)
  const items: SortItem[] = []
  const seen = new Set<string>()
  let hasId = false
  if (input.trim() !== '') {
    let offset = 0
    for (const [index, raw] of input.split(',').entries()) {
      const position = offset + (raw.length - raw.trimStart().length)
      offset += raw.length + 1
      const text = raw.trim()
      if (text === '') fail(position, 'Expected a field name to sort by')
      if (index === MAX_SORT_KEYS) fail(position, `At most ${MAX_SORT_KEYS} sort keys are allowed`)
      const match = itemPattern.exec(text)
      if (!match) {
        fail(position, `Expected a field name, optionally after - or +, not ${JSON.stringify(text)}`)
      }
      const [, sign, name] = match!
      const direction = sign === '-' ? 'desc' : 'asc'
      const namePosition = position + text.length - name!.length
      if (seen.has(name!)) fail(namePosition, `"${name}" is sorted on twice`)
      seen.add(name!)
      if (name === '@random') {
        items.push({ expression: sql`random()`, direction })
        continue
      }
      const path = resolvePath(name!.split('.'), namePosition, ctx, 'sort')
      const compiled = pathSql(path, ctx.dialect, aliases, guard)
      if (compiled.kind === 'set') {
        return fail(namePosition, `Cannot sort by "${name}": it holds several values`)
      }
      if (path.type === 'json') fail(namePosition, `Cannot sort by the json field "${name}"`)
      hasId ||= path.hops.length === 0 && path.field.name === 'id'
      const isNeverNull =
        path.hops.length === 0 &&
        path.field.system === true &&
        (path.field.name === 'id' || path.field.type === 'autodate')
      // PostgreSQL puts nulls last ascending; an explicit key makes both databases agree.
      if (compiled.isNullable && !isNeverNull) {
        items.push({
          expression: sql`(${compiled.expr} is null)`,
          direction: direction === 'asc' ? 'desc' : 'asc',
        })
      }
      items.push({ expression: compiled.expr, direction })
    }
  }
  if (!hasId) items.push({ expression: sql.id(ctx.alias, 'id'), direction: 'asc' })
  return items
}
