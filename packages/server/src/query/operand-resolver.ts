import {
  type CollectionDefinition,
  type FieldDefinition,
  isMultiRelation,
  isMultiValued,
} from '../collections/types.js'
import { FilterError, isPrototypeKey } from '../errors/index.js'
import type { Modifier, ModifierName, OperandNode, RequestOperand } from './filter-ast.js'
import type { ResolveContext } from './filter-context.js'
import { fieldValueType, INCOMPARABLE, type Value, type ValueType } from './filter-values.js'
import { backHop, type Hop, MAX_RELATION_HOPS, reachesMany, relationTarget } from './relation-hops.js'

/**
 * Where a path starts: the filtered record, the signed-in record, the records a relation of
 * the request body names (`@request.body.list.owner`; `ids` as sent, `isMulti` for a multi
 * relation), every row of another collection (`@collection.x`, told apart by `key`: name and
 * alias), or one row of such a collection already bound to a table alias (the shared row of
 * an `&&` chain).
 */
export type PathRoot =
  | { kind: 'record' }
  | { kind: 'auth'; collection: CollectionDefinition; id: string }
  | { kind: 'body'; collection: CollectionDefinition; ids: string[]; isMulti: boolean }
  | { kind: 'collection'; collection: CollectionDefinition; key: string }
  | { kind: 'row'; collection: CollectionDefinition; alias: string }

/** A field reached from a root through relations. */
export interface FieldPath {
  root: PathRoot
  hops: Hop[]
  field: FieldDefinition
  /** The collection that holds `field`. */
  collection: CollectionDefinition
  /** The type of the value, or of each element when multi-valued. */
  type: ValueType
  isMultiValued: boolean
  /** As written, for messages. */
  name: string
}

/**
 * How sure the type of a constant is. A literal or a typed value of the wrong type is the
 * author's mistake (an error); a request value of the wrong type is data (incomparable).
 */
export type Strength = 'literal' | 'typed' | 'dynamic'

export type ResolvedOperand =
  | {
      kind: 'constant'
      value: Value
      type: ValueType | null
      strength: Strength
      lower: boolean
      position: number
    }
  | { kind: 'list'; values: Value[]; lower: boolean; position: number }
  | { kind: 'path'; path: FieldPath; lower: boolean; position: number }
  | { kind: 'count'; path: FieldPath; position: number }

type Fail = (position: number, why: string) => never

/** The field as this caller may use it; hidden and password fields look like unknown ones. */
function visibleField(
  collection: CollectionDefinition,
  name: string,
  canSeeHidden: boolean,
): FieldDefinition | undefined {
  const field = collection.fields.find((f) => f.name === name)
  if (!field || field.type === 'password' || (field.hidden && !canSeeHidden)) return undefined
  return field
}

export function resolvePath(
  segments: string[],
  position: number,
  ctx: ResolveContext,
  param: string,
  root: PathRoot = { kind: 'record' },
): FieldPath {
  const reserved = segments.findIndex(isPrototypeKey)
  if (reserved >= 0) {
    const at = position + segments.slice(0, reserved).join('.').length + (reserved > 0 ? 1 : 0)
    throw new FilterError(at, `"${segments[reserved]}" is a reserved name`, param)
  }
  let collection = root.kind === 'record' ? ctx.collection : root.collection
  const hops: Hop[] = []
  let offset = position
  // Every row of another collection: many values, even for a single-valued field.
  let crossesMulti = root.kind === 'collection' || (root.kind === 'body' && root.isMulti)
  for (const [index, segment] of segments.entries()) {
    const field = visibleField(collection, segment, ctx.canSeeHidden)
    if (!field) {
      const hop = backHop(segment, collection, offset, ctx, param, index === segments.length - 1)
      if (hops.length === MAX_RELATION_HOPS)
        throw new FilterError(offset, `A path may follow at most ${MAX_RELATION_HOPS} relations`, param)
      hops.push(hop)
      crossesMulti ||= reachesMany(hop)
      collection = hop.target
      offset += segment.length + 1
      continue
    }
    if (index === segments.length - 1) {
      return {
        root,
        hops,
        field,
        collection,
        type: fieldValueType(field),
        isMultiValued: crossesMulti || isMultiValued(field),
        name: segments.join('.'),
      }
    }
    if (field.type === 'relation' && hops.length === MAX_RELATION_HOPS) {
      throw new FilterError(offset, `A path may follow at most ${MAX_RELATION_HOPS} relations`, param)
    }
    const target = relationTarget(field, offset, ctx, param)
    hops.push({ field, target })
    crossesMulti ||= isMultiRelation(field)
    collection = target
    offset += segment.length + 1
  }
  throw new FilterError(position, 'Expected a field name', param)
}

export function resolveOperand(node: OperandNode, ctx: ResolveContext): ResolvedOperand {
  const fail: Fail = (position, why) => {
    throw new FilterError(position, why)
  }
  const has = (name: ModifierName) => node.modifiers.some((m) => m.name === name)
  checkCombination(node.modifiers, fail)
  const lower = has('lower')
  const position = node.position

  switch (node.kind) {
    case 'literal': {
      rejectModifiers(node.modifiers, ['isset', 'changed', 'length', 'each'], 'a literal', fail)
      if (lower && typeof node.value !== 'string') {
        fail(modifierAt(node.modifiers, 'lower'), ':lower needs text')
      }
      return { kind: 'constant', value: node.value, type: null, strength: 'literal', lower, position }
    }
    case 'macro': {
      rejectModifiers(node.modifiers, ['isset', 'changed', 'length', 'each', 'lower'], 'a date macro', fail)
      return {
        kind: 'constant',
        value: macroValue(node.name, ctx.now),
        type: 'date',
        strength: 'typed',
        lower,
        position,
      }
    }
    case 'field': {
      rejectModifiers(node.modifiers, ['isset', 'changed'], 'a field', fail)
      const path = resolvePath(node.path, position, ctx, 'filter')
      return pathOperand(path, node.modifiers, position, fail)
    }
    case 'request':
      return resolveRequest(node, ctx, fail)
    case 'collection': {
      rejectModifiers(node.modifiers, ['isset', 'changed'], '@collection', fail)
      // Another collection's rows bypass its rules, so only trusted filters may read them.
      if (!ctx.canSeeHidden) fail(position, '@collection can only be used in rules and by superusers')
      const collection = ctx.collections(node.collection)
      if (!collection) fail(position + '@collection.'.length, `Unknown collection "${node.collection}"`)
      if (ctx.reachable && !ctx.reachable(collection!)) {
        fail(position + '@collection.'.length, `The API key may not view ${node.collection}`)
      }
      const root: PathRoot = {
        kind: 'collection',
        collection: collection!,
        key: `${node.collection}:${node.alias ?? ''}`,
      }
      const path = resolvePath(node.path, node.pathPosition, ctx, 'filter', root)
      return pathOperand(path, node.modifiers, position, fail)
    }
  }
}

function resolveRequest(node: RequestOperand, ctx: ResolveContext, fail: Fail): ResolvedOperand {
  const { modifiers, position } = node
  const name = node.path[0]!
  if (node.source !== 'body') {
    rejectModifiers(modifiers, ['isset', 'changed'], `@request.${node.source}`, fail)
  }
  if (node.source === 'auth') {
    const auth = ctx.request.auth
    const first = auth ? visibleField(auth.collection, name, ctx.canSeeHidden) : undefined
    if (auth && first && node.path.length > 1) {
      const root = { kind: 'auth' as const, collection: auth.collection, id: String(auth.record.id) }
      const path = resolvePath(node.path, position + '@request.auth.'.length, ctx, 'filter', root)
      return pathOperand(path, modifiers, position, fail)
    }
    return dynamicOperand(authValue(ctx, name, node.path.length > 1), modifiers, position)
  }
  if (node.source === 'body' && node.path.length > 1) return bodyPathOperand(node, ctx, fail)
  const source = node.source === 'body' ? ctx.request.body : ctx.request.query
  const isPresent = Object.hasOwn(source, name)
  if (modifiers.some((m) => m.name === 'isset')) {
    return { kind: 'constant', value: isPresent, type: 'bool', strength: 'typed', lower: false, position }
  }
  if (modifiers.some((m) => m.name === 'changed')) {
    const changed = isPresent && !sameValue(source[name], ctx.request.existing?.[name])
    return { kind: 'constant', value: changed, type: 'bool', strength: 'typed', lower: false, position }
  }
  return dynamicOperand(isPresent ? source[name] : undefined, modifiers, position)
}

/**
 * `@request.body.<relation>.<path>`: the records that the body's value of a relation of the
 * collection names, read by id. Only ids count: a value that is absent, not an id, or the
 * id of no record reaches no record (null through a single relation, no element through a
 * multi relation), so a client cannot turn the rule into an error.
 */
function bodyPathOperand(node: RequestOperand, ctx: ResolveContext, fail: Fail): ResolvedOperand {
  const { modifiers, position } = node
  rejectModifiers(modifiers, ['isset', 'changed'], 'a path through @request.body', fail)
  const [name, ...rest] = node.path as [string, ...string[]]
  const offset = position + '@request.body.'.length
  const field = visibleField(ctx.collection, name, ctx.canSeeHidden)
  if (!field) fail(offset, `Unknown field "${name}"`)
  const target = relationTarget(field!, offset, ctx, 'filter')
  const isMulti = isMultiRelation(field!)
  const raw = Object.hasOwn(ctx.request.body, name) ? ctx.request.body[name] : undefined
  const root: PathRoot = { kind: 'body', collection: target, ids: bodyIds(raw, isMulti), isMulti }
  const path = resolvePath(rest, offset + name.length + 1, ctx, 'filter', root)
  return pathOperand({ ...path, name: `@request.body.${node.path.join('.')}` }, modifiers, position, fail)
}

/** The ids a relation's body value names: a string for a single relation, a list of them for a multi one. */
function bodyIds(raw: unknown, isMulti: boolean): string[] {
  const values = isMulti && Array.isArray(raw) ? raw : [raw]
  // NUL cannot be bound as text on PostgreSQL, and no id holds it.
  const ids = values.filter((v): v is string => typeof v === 'string' && v !== '' && !v.includes('\u0000'))
  return [...new Set(ids.map((id) => id.toLowerCase()))]
}

function pathOperand(path: FieldPath, modifiers: Modifier[], position: number, fail: Fail): ResolvedOperand {
  const has = (name: ModifierName) => modifiers.some((m) => m.name === name)
  if (has('length') || has('each')) {
    const name = has('length') ? 'length' : 'each'
    if (!path.isMultiValued) {
      fail(modifierAt(modifiers, name), `:${name} needs a multi-valued field; "${path.name}" holds one value`)
    }
    if (name === 'length') return { kind: 'count', path, position }
  }
  if (has('lower') && path.type !== 'text') {
    fail(modifierAt(modifiers, 'lower'), `:lower needs text; "${path.name}" is ${path.type}`)
  }
  return { kind: 'path', path, lower: has('lower'), position }
}

function dynamicOperand(raw: unknown, modifiers: Modifier[], position: number): ResolvedOperand {
  const has = (name: ModifierName) => modifiers.some((m) => m.name === name)
  if (has('length')) {
    const length = Array.isArray(raw) ? raw.length : raw === null || raw === undefined ? 0 : 1
    return { kind: 'constant', value: length, type: 'number', strength: 'typed', lower: false, position }
  }
  const lower = has('lower')
  if (Array.isArray(raw) || has('each')) {
    const items: unknown[] = Array.isArray(raw) ? raw : raw === null || raw === undefined ? [] : [raw]
    return { kind: 'list', values: items.map((item) => toValue(item, lower)), lower, position }
  }
  return { kind: 'constant', value: toValue(raw, lower), type: null, strength: 'dynamic', lower, position }
}

function authValue(ctx: ResolveContext, name: string, isPath: boolean): unknown {
  const auth = ctx.request.auth
  if (!auth || isPath) return null
  if (name === 'collectionName') return auth.collection.name
  if (name === 'id') return auth.record.id ?? null
  // Rules are shared by every auth collection, so a field another one lacks is null, not an error.
  const field = visibleField(auth.collection, name, ctx.canSeeHidden)
  if (!field) return null
  const value = auth.record[name] ?? null
  // The auth record comes as stored, and SQLite stores booleans as 0 and 1.
  if (field.type === 'bool' && (value === 0 || value === 1)) return value === 1
  return value
}

function toValue(raw: unknown, lower: boolean): Value {
  if (raw === null || raw === undefined) return null
  if (raw instanceof Date) return Number.isNaN(raw.getTime()) ? INCOMPARABLE : raw.toISOString()
  // No stored text holds NUL (PostgreSQL refuses it), and it could not be bound.
  if (typeof raw === 'string') return raw.includes('\u0000') ? INCOMPARABLE : raw
  if (lower) return INCOMPARABLE
  if (typeof raw === 'boolean' || (typeof raw === 'number' && Number.isFinite(raw))) return raw
  return INCOMPARABLE
}

function macroValue(name: 'now' | 'todayStart' | 'todayEnd', now: Date): string {
  if (name === 'now') return now.toISOString()
  const day = now.toISOString().slice(0, 10)
  return name === 'todayStart' ? `${day}T00:00:00.000Z` : `${day}T23:59:59.999Z`
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if ((a ?? null) === null || (b ?? null) === null) return (a ?? null) === (b ?? null)
  return JSON.stringify(a) === JSON.stringify(b)
}

const exclusive: ModifierName[] = ['isset', 'changed', 'length']

/** `:isset`, `:changed` and `:length` stand alone; `:each` and `:lower` may go together. */
function checkCombination(modifiers: Modifier[], fail: Fail): void {
  if (modifiers.length < 2) return
  const alone = modifiers.find((m) => exclusive.includes(m.name))
  if (alone) {
    const other = modifiers.find((m) => m !== alone)!
    const later = alone.position > other.position ? alone : other
    fail(later.position, `:${alone.name} cannot be combined with :${other.name}`)
  }
}

function rejectModifiers(modifiers: Modifier[], names: ModifierName[], what: string, fail: Fail): void {
  const bad = modifiers.find((m) => names.includes(m.name))
  if (bad) fail(bad.position, `:${bad.name} cannot be used on ${what}`)
}

function modifierAt(modifiers: Modifier[], name: ModifierName): number {
  return modifiers.find((m) => m.name === name)!.position
}
