import { type Kysely, sql } from 'kysely'
import {
  type CollectionDefinition,
  type CollectionRegistry,
  type FieldDefinition,
  isMultiRelation,
  junctionTableName,
} from '../collections/index.js'
import { BadRequestError } from '../errors/index.js'
import type { Caller } from '../identity/index.js'
import { type BackRelation, findBackRelation } from '../query/index.js'
import type { Access } from '../rules/index.js'
import { chunksOf } from './id-chunks.js'
import { ALIAS, type RecordReader } from './reader.js'
import type { RecordData } from './types.js'
import { relationIds } from './writer.js'

export const MAX_EXPAND_DEPTH = 6
const MAX_EXPAND_PATHS = 20
/** Records expanded per back-relation of one record, as PocketBase caps them. */
export const MAX_BACK_RELATED = 1000

interface ExpandNode {
  /** Set for `<collection>_via_<field>`: the records pointing back, not a relation of the record. */
  back?: BackRelation
  children: ExpandTree
}

type ExpandTree = Map<string, ExpandNode>

type Row = Record<string, unknown>

function invalidExpand(message: string): BadRequestError {
  return new BadRequestError(`Invalid expand: ${message}.`, 'invalid_query', {
    expand: { code: 'invalid_expand', message },
  })
}

/**
 * `author,author.company,editors,comments_via_post` as a tree, every step checked to be a
 * relation field, or a back-relation: a relation field of another collection pointing here.
 */
export function parseExpand(
  input: string,
  collection: CollectionDefinition,
  registry: CollectionRegistry,
  canSeeHidden: boolean,
): ExpandTree {
  const root: ExpandTree = new Map()
  const paths = input
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
  if (paths.length > MAX_EXPAND_PATHS) throw invalidExpand(`at most ${MAX_EXPAND_PATHS} paths`)
  const collections = (name: string) => registry.get(name)
  for (const path of paths) {
    const parts = path.split('.')
    if (parts.length > MAX_EXPAND_DEPTH) throw invalidExpand(`"${path}" is deeper than ${MAX_EXPAND_DEPTH}`)
    let tree = root
    let current: CollectionDefinition | undefined = collection
    for (const part of parts) {
      const field: FieldDefinition | undefined = current?.fields.find((f) => f.name === part)
      const isRelation: boolean = field?.type === 'relation' && (!field.hidden || canSeeHidden)
      const back: BackRelation | undefined =
        isRelation || !current ? undefined : findBackRelation(part, current, collections, canSeeHidden)
      if (!isRelation && !back)
        throw invalidExpand(`"${part}" in "${path}" is neither a relation field nor a back-relation`)
      current = back ? back.source : registry.get(field!.collection!)
      let node = tree.get(part)
      if (!node) {
        node = { ...(back ? { back } : {}), children: new Map() }
        tree.set(part, node)
      }
      tree = node.children
    }
  }
  return root
}

/** Fills `record.expand` along relation paths and back-relations, each record read under its view rule. */
export class Expander {
  constructor(private readonly reader: RecordReader) {}

  async expand(
    db: Kysely<any>,
    collection: CollectionDefinition,
    records: RecordData[],
    expand: string | undefined,
    caller: Caller,
  ): Promise<void> {
    if (!expand) return
    const tree = parseExpand(expand, collection, this.reader.registry, caller.isSuperuser)
    if (records.length === 0) return
    await this.expandTree(db, collection, records, tree, caller)
  }

  private async expandTree(
    db: Kysely<any>,
    collection: CollectionDefinition,
    records: RecordData[],
    tree: ExpandTree,
    caller: Caller,
  ): Promise<void> {
    for (const [name, node] of tree) {
      if (node.back) await this.expandBack(db, records, name, node.back, node.children, caller)
      else await this.expandRelation(db, collection, records, name, node.children, caller)
    }
  }

  /** The view rule as a condition, or undefined when the caller may not view the collection at all. */
  private viewAccess(caller: Caller, collection: CollectionDefinition): Access | undefined {
    try {
      return this.reader.access(caller, collection, 'view')
    } catch {
      return undefined // Not allowed to view the collection: nothing is expanded, nothing revealed.
    }
  }

  private async expandRelation(
    db: Kysely<any>,
    collection: CollectionDefinition,
    records: RecordData[],
    name: string,
    children: ExpandTree,
    caller: Caller,
  ): Promise<void> {
    const field = collection.fields.find((f) => f.name === name)!
    const target = this.reader.registry.get(field.collection!)!
    const ids = new Set<string>()
    for (const record of records) for (const id of relationIds(record[name])) ids.add(id)
    const access = ids.size === 0 ? undefined : this.viewAccess(caller, target)
    if (!access) return
    const rows: Row[] = []
    for (const chunk of chunksOf([...ids])) {
      let query = this.reader.select(db, target).where(`${ALIAS}.id`, 'in', chunk)
      if (access.kind === 'where') query = query.where(access.condition)
      rows.push(...(await query.execute()))
    }
    const related = await this.reader.toRecords(db, target, rows, caller)
    if (children.size > 0) await this.expandTree(db, target, related, children, caller)
    const byId = new Map(related.map((r) => [r.id as string, r]))
    for (const record of records) {
      const value = record[name]
      const found = Array.isArray(value)
        ? value.map((id) => byId.get(id)).filter(Boolean)
        : byId.get(value as string)
      if (found === undefined || (Array.isArray(found) && found.length === 0)) continue
      record.expand = { ...(record.expand as RecordData | undefined), [name]: found }
    }
  }

  /**
   * `comments_via_post`: for each record, the comments whose `post` points to it that the
   * caller may view, oldest first, at most MAX_BACK_RELATED of them; one record instead of
   * a list where at most one can point back.
   */
  private async expandBack(
    db: Kysely<any>,
    records: RecordData[],
    name: string,
    back: BackRelation,
    children: ExpandTree,
    caller: Caller,
  ): Promise<void> {
    const access = this.viewAccess(caller, back.source)
    if (!access) return
    const parentIds = [...new Set(records.map((record) => String(record.id)))]
    const byParent = new Map<string, string[]>()
    const rowsById = new Map<string, Row>()
    for (const chunk of chunksOf(parentIds)) {
      for (const row of await this.backRelatedRows(db, back, chunk, access)) {
        const id = String(row.id)
        rowsById.set(id, row)
        const parent = String(row.__parent)
        const ids = byParent.get(parent)
        if (ids) ids.push(id)
        else byParent.set(parent, [id])
      }
    }
    if (rowsById.size === 0) return
    const related = await this.reader.toRecords(db, back.source, [...rowsById.values()], caller)
    if (children.size > 0) await this.expandTree(db, back.source, related, children, caller)
    const byId = new Map(related.map((r) => [r.id as string, r]))
    for (const record of records) {
      const found = (byParent.get(String(record.id)) ?? []).map((id) => byId.get(id)!)
      if (found.length === 0) continue
      record.expand = {
        ...(record.expand as RecordData | undefined),
        [name]: back.isSingle ? found[0] : found,
      }
    }
  }

  /**
   * The rows of the back-relation's collection pointing to `parents` that the view rule lets
   * through, each with `__parent`, at most MAX_BACK_RELATED per parent (ranked by id, which
   * is creation order), in one statement.
   */
  private backRelatedRows(db: Kysely<any>, back: BackRelation, parents: string[], access: Access) {
    const { source, field } = back
    const isMulti = isMultiRelation(field)
    const parent = isMulti ? sql.ref('via.target') : sql.ref(`${ALIAS}.${field.name}`)
    let ranked = this.reader
      .select(db, source)
      .select([
        parent.as('__parent'),
        sql<number>`row_number() over (partition by ${parent} order by ${sql.ref(`${ALIAS}.id`)})`.as(
          '__rank',
        ),
      ])
    ranked = isMulti
      ? ranked
          .innerJoin(`${junctionTableName(field)} as via`, 'via.source', `${ALIAS}.id`)
          .where('via.target', 'in', parents)
      : ranked.where(`${ALIAS}.${field.name}`, 'in', parents)
    if (access.kind === 'where') ranked = ranked.where(access.condition)
    return db
      .selectFrom(ranked.as('back'))
      .selectAll()
      .where('back.__rank', '<=', MAX_BACK_RELATED)
      .orderBy('back.__parent')
      .orderBy('back.id')
      .execute() as Promise<Row[]>
  }
}
