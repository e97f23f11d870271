import type { CollectionDefinition, FieldDefinition, FieldType } from '../types.js'

export interface DefinitionContext {
  collection: Pick<CollectionDefinition, 'name' | 'type'>
  /** Collections that exist after the change, by name (relations are checked against it). */
  collectionExists(name: string): boolean
}

/** A value the schema accepted but the field still refuses (e.g. a bad date). */
export class FieldValueError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Everything one field type knows: which definition options it takes, how to
 * check them, the JSON Schema of its values and how to normalise a value.
 */
export interface FieldKind {
  readonly type: FieldType
  /** Definition keys this type accepts besides id, name, type, required, hidden, system. */
  readonly options: readonly string[]
  /** Problems with the field's own options, by key. */
  checkDefinition(field: FieldDefinition, context: DefinitionContext): Record<string, string>
  /** JSON Schema of a value in a request body (null is handled by the caller). */
  valueSchema(field: FieldDefinition): Record<string, unknown>
  /** The value as stored and returned; throws FieldValueError when it is not acceptable. */
  normalize(field: FieldDefinition, value: unknown): unknown
  /** The value a new record gets when the body leaves the field out. */
  emptyValue(field: FieldDefinition): unknown
  /** Whether a value counts as missing for `required`. */
  isEmpty(value: unknown): boolean
}

export function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

export function isNonNegativeInteger(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0
}

export const isBlank = (value: unknown): boolean => value === null || value === undefined || value === ''
