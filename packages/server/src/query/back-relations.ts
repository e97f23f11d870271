import { type CollectionDefinition, type FieldDefinition, isMultiRelation } from '../collections/types.js'

const VIA = '_via_'

/** The records of `source` whose relation `field` points to a record: `<source>_via_<field>`. */
export interface BackRelation {
  source: CollectionDefinition
  field: FieldDefinition
  /**
   * At most one record can point back: `field` holds one id and a unique index covers it
   * alone. Such a back-relation reads as one record, as in PocketBase; any other as a list.
   */
  isSingle: boolean
}

/**
 * The back-relation a name such as `comments_via_post` stands for, seen from `target`:
 * a relation field `post` of the collection `comments` that points to `target`. A name
 * with several `_via_` is tried at each, so collection and field names may hold it too.
 * Hidden relation fields count only for callers who may see hidden fields.
 */
export function findBackRelation(
  name: string,
  target: CollectionDefinition,
  collections: (name: string) => CollectionDefinition | undefined,
  canSeeHidden: boolean,
): BackRelation | undefined {
  for (let at = name.indexOf(VIA); at > 0; at = name.indexOf(VIA, at + 1)) {
    const source = collections(name.slice(0, at))
    const field = source?.fields.find((candidate) => candidate.name === name.slice(at + VIA.length))
    if (!source || field?.type !== 'relation' || field.collection !== target.name) continue
    if (field.hidden && !canSeeHidden) continue
    return { source, field, isSingle: isUniqueLink(source, field) }
  }
  return undefined
}

/** Whether a name is written as a back-relation, whether or not it names one. */
export function looksLikeBackRelation(name: string): boolean {
  return name.indexOf(VIA) > 0
}

function isUniqueLink(source: CollectionDefinition, field: FieldDefinition): boolean {
  if (isMultiRelation(field)) return false
  return source.indexes.some(
    (index) => index.unique === true && index.fields.length === 1 && index.fields[0] === field.name,
  )
}
