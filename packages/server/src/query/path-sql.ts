import { type RawBuilder, type SqlBool, sql } from 'kysely'
import {
  type CollectionDefinition,
  isMultiRelation,
  isMultiValued,
  junctionTableName,
} from '../collections/types.js'
import type { Dialect } from '../db/index.js'
import type { FieldPath } from './operand-resolver.js'
import { type Hop, reachesMany } from './relation-hops.js'

/** What an ordinary caller's filter or sort may reach through a path; trusted ones have none. */
export interface PathGuard {
  /** A condition a related row must meet to be reached (its collection's view rule), if any. */
  row(target: CollectionDefinition, alias: string): RawBuilder<SqlBool> | undefined
  /** A field's value as the caller may see it, given the alias of the row that holds it. */
  value(path: FieldPath, alias: string): RawBuilder<unknown>
}

/** One value per record: a column, or a correlated subquery through single relations. */
export interface SqlScalar {
  kind: 'scalar'
  expr: RawBuilder<unknown>
  isNullable: boolean
  /** Cheap enough to repeat in `x is not null` instead of wrapping in coalesce. */
  isCheap: boolean
}

/** Many values per record: the rows of `from … where …`, each with one `value`. */
export interface SqlSet {
  kind: 'set'
  from: RawBuilder<unknown>
  where: RawBuilder<SqlBool>[]
  value: RawBuilder<unknown>
}

/** Table aliases for subqueries (`t1`, `j2`, `e3`, …), unique within one filter or sort. */
export class AliasGenerator {
  constructor(
    readonly outerAlias: string,
    private readonly shared = { next: 1, reserved: outerAlias },
  ) {}

  next(prefix: 't' | 'j' | 'e'): string {
    let alias: string
    do alias = `${prefix}${this.shared.next++}`
    while (alias === this.shared.reserved)
    return alias
  }

  /** The same sequence, for a condition nested in this query whose own row is `alias`. */
  within(alias: string): AliasGenerator {
    return new AliasGenerator(alias, this.shared)
  }
}

/**
 * The SQL for a path. Relations before the first multi relation only narrow to one row, so
 * they correlate in WHERE; single relations after it are LEFT JOINs, so an element whose link
 * is empty stays as a null element; multi relations and multi selects are inner joins that
 * flatten (an empty list contributes no element).
 */
export function pathSql(
  path: FieldPath,
  dialect: Dialect,
  aliases: AliasGenerator,
  guard?: PathGuard,
): SqlScalar | SqlSet {
  const from: RawBuilder<unknown>[] = []
  const where: RawBuilder<SqlBool>[] = []
  let row = aliases.outerAlias
  const { root } = path
  if (root.kind === 'auth' || root.kind === 'collection' || root.kind === 'body') {
    row = aliases.next('t')
    from.push(sql`${sql.table(root.collection.name)} as ${sql.id(row)}`)
    if (root.kind === 'auth') where.push(sql<SqlBool>`${sql.id(row, 'id')} = ${root.id}`)
    if (root.kind === 'body') {
      where.push(idIn(sql.id(row, 'id'), root.ids))
      const visible = guard?.row(root.collection, row)
      if (visible) where.push(visible)
    }
  } else if (root.kind === 'row') {
    row = root.alias
  }

  const joinJunction = (field: FieldPath['field']): string => {
    const junction = aliases.next('j')
    const table = sql`${sql.table(junctionTableName(field))} as ${sql.id(junction)}`
    if (from.length === 0) {
      from.push(table)
      where.push(sql<SqlBool>`${sql.id(junction, 'source')} = ${sql.id(row, 'id')}`)
    } else {
      from.push(sql`join ${table} on ${sql.id(junction, 'source')} = ${sql.id(row, 'id')}`)
    }
    return junction
  }

  /** A multi relation followed backwards: the junction rows whose target is the current row. */
  const joinJunctionBack = (field: FieldPath['field']): string => {
    const junction = aliases.next('j')
    const table = sql`${sql.table(junctionTableName(field))} as ${sql.id(junction)}`
    const link = sql<SqlBool>`${sql.id(junction, 'target')} = ${sql.id(row, 'id')}`
    if (from.length === 0) {
      from.push(table)
      where.push(link)
    } else {
      from.push(sql`join ${table} on ${link}`)
    }
    return junction
  }

  for (const hop of path.hops) {
    const { field, target } = hop
    const isMulti = isMultiRelation(field)
    const junction = isMulti ? (hop.back ? joinJunctionBack(field) : joinJunction(field)) : null
    const next = aliases.next('t')
    const table = sql`${sql.table(target.name)} as ${sql.id(next)}`
    const link = [hopLink(hop, row, next, junction)]
    const visible = guard?.row(target, next)
    if (visible) link.push(visible)
    // A related row the guard hides is treated like a missing one: null, or no element.
    if (junction || (from.length > 0 && reachesMany(hop))) {
      from.push(sql`join ${table} on ${sql.join(link, sql` and `)}`)
    } else if (from.length === 0) {
      from.push(table)
      where.push(...link)
    } else {
      from.push(sql`left join ${table} on ${sql.join(link, sql` and `)}`)
    }
    row = next
  }

  const field = path.field
  let value: RawBuilder<unknown>
  if (isMultiRelation(field)) {
    value = sql.id(joinJunction(field), 'target')
  } else if (isMultiValued(field)) {
    const element = aliases.next('e')
    const elements = dialect.jsonEach(sql.id(row, field.name), element)
    from.push(from.length === 0 ? elements : sql`cross join ${elements}`)
    value = sql.id(element, 'value')
  } else {
    value = guard ? guard.value(path, row) : sql.id(row, field.name)
  }

  if (path.isMultiValued) return { kind: 'set', from: sql.join(from, sql` `), where, value }
  if (from.length === 0) {
    const isNullable = !(field.name === 'id' && field.system)
    return { kind: 'scalar', expr: value, isNullable, isCheap: true }
  }
  const subquery = sql`(select ${value} from ${sql.join(from, sql` `)} where ${sql.join(where, sql` and `)})`
  return { kind: 'scalar', expr: subquery, isNullable: true, isCheap: false }
}

/**
 * How the row `next` of a hop's target joins the row it comes from: by the relation's
 * column or junction forwards, and backwards by the target's column (or the junction's
 * source) pointing to the row it comes from.
 */
function hopLink(hop: Hop, row: string, next: string, junction: string | null): RawBuilder<SqlBool> {
  if (hop.back)
    return junction
      ? sql<SqlBool>`${sql.id(next, 'id')} = ${sql.id(junction, 'source')}`
      : sql<SqlBool>`${sql.id(next, hop.field.name)} = ${sql.id(row, 'id')}`
  return sql<SqlBool>`${sql.id(next, 'id')} = ${junction ? sql.id(junction, 'target') : sql.id(row, hop.field.name)}`
}

/** The number of elements of a multi-valued path, as a double so it compares with any number. */
export function countSql(
  path: FieldPath,
  dialect: Dialect,
  aliases: AliasGenerator,
  guard?: PathGuard,
): SqlScalar {
  const isOwnMultiSelect =
    path.hops.length === 0 && path.root.kind === 'record' && !isMultiRelation(path.field)
  if (isOwnMultiSelect) {
    const length = dialect.jsonArrayLength(sql.id(aliases.outerAlias, path.field.name))
    return {
      kind: 'scalar',
      expr: sql`cast(${length} as double precision)`,
      isNullable: false,
      isCheap: true,
    }
  }
  const set = pathSql(path, dialect, aliases, guard) as SqlSet
  const expr = sql`(select cast(count(*) as double precision) from ${set.from}${whereClause(set.where)})`
  return { kind: 'scalar', expr, isNullable: false, isCheap: false }
}

export function whereClause(conditions: RawBuilder<SqlBool>[]): RawBuilder<unknown> {
  return conditions.length === 0 ? sql`` : sql` where ${sql.join(conditions, sql` and `)}`
}

function idIn(column: RawBuilder<unknown>, ids: string[]): RawBuilder<SqlBool> {
  if (ids.length === 0) return sql<SqlBool>`false`
  if (ids.length === 1) return sql<SqlBool>`${column} = ${ids[0]}`
  return sql<SqlBool>`${column} in (${sql.join(ids.map((id) => sql.val(id)))})`
}
