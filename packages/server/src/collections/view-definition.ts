import type { FieldErrors } from '../errors/index.js'
import type { CollectionDefinition, CollectionType } from './types.js'
import { checkViewQuery } from './view-query.js'

/** A view's query, checked; refused on other collection types. */
export function parseViewQuery(
  input: Record<string, unknown>,
  type: CollectionType,
  errors: FieldErrors,
): string | undefined {
  if (type !== 'view') {
    if (input.viewQuery !== undefined)
      errors.viewQuery = { code: 'unknown_field', message: 'only view collections have a query' }
    return undefined
  }
  return checkViewQuery(input.viewQuery, errors) ? input.viewQuery.trim() : undefined
}

/** A view has no table of its own: nothing to index, and only single values (no junction tables). */
export function checkViewShape(definition: CollectionDefinition, errors: FieldErrors): void {
  if (definition.type !== 'view') return
  if (definition.indexes.length > 0 && !errors.indexes)
    errors.indexes = {
      code: 'invalid_value',
      message: 'a view cannot have indexes; index the collections it reads',
    }
  definition.fields.forEach((field, index) => {
    if (field.type === 'password' || field.type === 'autodate')
      errors[`fields.${index}.type`] = {
        code: 'invalid_value',
        message: `a view field cannot be ${field.type}`,
      }
    else if (field.type === 'relation' && (field.maxSelect ?? 1) > 1)
      errors[`fields.${index}.maxSelect`] = { code: 'invalid_value', message: 'a view relation holds one id' }
  })
}
