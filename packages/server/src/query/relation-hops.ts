import { type CollectionDefinition, type FieldDefinition, isMultiRelation } from '../collections/types.js'
import { FilterError } from '../errors/index.js'
import { findBackRelation, looksLikeBackRelation } from './back-relations.js'
import type { ResolveContext } from './filter-context.js'

export const MAX_RELATION_HOPS = 6

/** One relation followed by a path. */
export interface Hop {
  field: FieldDefinition
  target: CollectionDefinition
  /**
   * Set when the relation is followed backwards (`comments_via_post`): `target` holds
   * `field`, which points to the record the hop starts from.
   */
  back?: { isSingle: boolean }
}

/** Whether a hop may lead from one record to several. */
export function reachesMany(hop: Hop): boolean {
  return hop.back ? !hop.back.isSingle : isMultiRelation(hop.field)
}

/** The collection a relation named at `offset` leads to, if this caller's path may follow it. */
export function relationTarget(
  field: FieldDefinition,
  offset: number,
  ctx: ResolveContext,
  param: string,
): CollectionDefinition {
  const segment = field.name
  if (field.type !== 'relation') {
    throw new FilterError(
      offset + segment.length,
      `"${segment}" is not a relation, so it has no fields`,
      param,
    )
  }
  const target = field.collection ? ctx.collections(field.collection) : undefined
  if (!target) throw new FilterError(offset, `The relation "${segment}" points to no collection`, param)
  assertReachable(target, segment, offset, ctx, param)
  return target
}

/** Whether this caller's path may lead into `target` through the segment at `offset`. */
function assertReachable(
  target: CollectionDefinition,
  segment: string,
  offset: number,
  ctx: ResolveContext,
  param: string,
): void {
  // An ordinary caller's path passes the target's view rule (see relation-access.ts); a null rule lets nobody through.
  if (!ctx.canSeeHidden && target.viewRule === null) {
    throw new FilterError(offset, `"${segment}" leads to records only superusers may view`, param)
  }
  if (ctx.reachable && !ctx.reachable(target)) {
    throw new FilterError(
      offset,
      `"${segment}" leads to ${target.name}, which the API key may not view`,
      param,
    )
  }
}

/**
 * A segment that is no field of `collection`: a back-relation (`comments_via_post`, the
 * comments whose `post` points here), followed by a field of those records, or an error.
 */
export function backHop(
  segment: string,
  collection: CollectionDefinition,
  offset: number,
  ctx: ResolveContext,
  param: string,
  isLast: boolean,
): Hop {
  const back = findBackRelation(segment, collection, ctx.collections, ctx.canSeeHidden)
  if (!back) {
    if (!looksLikeBackRelation(segment)) throw new FilterError(offset, `Unknown field "${segment}"`, param)
    throw new FilterError(
      offset,
      `"${segment}" names no relation field of another collection that points to ${collection.name}`,
      param,
    )
  }
  if (isLast)
    throw new FilterError(
      offset + segment.length,
      `"${segment}" stands for the records that point back; name one of their fields after it, e.g. ${segment}.id`,
      param,
    )
  assertReachable(back.source, segment, offset, ctx, param)
  return { field: back.field, target: back.source, back: { isSingle: back.isSingle } }
}
