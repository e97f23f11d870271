import type { StorageKind, ViewColumn } from '../db/index.js'
import { type FieldErrors, ValidationError } from '../errors/index.js'
import { newStableId } from './definition.js'
import { storageKind } from './fields/index.js'
import { isReservedFieldName, isValidName } from './names.js'
import { type CollectionDefinition, type FieldDefinition, type FieldType, isMultiValued } from './types.js'

const typeOfKind: Record<StorageKind, FieldType> = {
  text: 'text',
  number: 'number',
  boolean: 'bool',
  timestamp: 'date',
  json: 'json',
}

/**
 * The fields of a view from the columns its query returns. A column keeps the type given
 * in the definition's `fields` (or inferred earlier) when there is one; otherwise it
 * takes the type of a same-named field of a collection the query reads, when the storage
 * agrees; otherwise the type of its storage (text when the database cannot tell).
 */
export function viewFieldsFrom(
  columns: readonly ViewColumn[],
  view: CollectionDefinition,
  sources: readonly CollectionDefinition[],
): FieldDefinition[] {
  const errors: FieldErrors = {}
  const problem = (message: string) => {
    errors.viewQuery ??= { code: 'invalid_view_query', message }
  }
  const idField = view.fields.find((f) => f.system && f.name === 'id')!
  const fields: FieldDefinition[] = [idField]
  const seen = new Set<string>()
  for (const column of columns) {
    const key = column.name.toLowerCase()
    if (seen.has(key)) problem(`returns the column ${column.name} twice`)
    seen.add(key)
    if (column.name === 'id') {
      if (column.kind !== null && column.kind !== 'text') problem('must return id as text')
      continue
    }
    if (!isValidName(column.name) || isReservedFieldName(column.name)) {
      problem(
        `returns a column named ${JSON.stringify(column.name)}; name every column with AS: a letter, then letters, digits or _`,
      )
      continue
    }
    if (column.unsupportedType) {
      problem(`returns ${column.name} as ${column.unsupportedType}; cast it to text, a number or a boolean`)
      continue
    }
    const declared = view.fields.find((f) => !f.system && f.name === column.name)
    if (declared) {
      if (column.kind !== null && storageKind(declared) !== column.kind)
        errors[`fields.${column.name}`] = {
          code: 'invalid_value',
          message: `the query returns ${column.kind} values; a ${declared.type} field cannot hold them`,
        }
      fields.push(declared)
      continue
    }
    fields.push({ id: newStableId('f'), name: column.name, ...inferredType(column, sources) })
  }
  if (!seen.has('id')) problem('must return an id column (the id of each row, as text)')
  if (Object.keys(errors).length > 0) throw new ValidationError(errors, 'The view query is invalid.')
  return fields
}

function inferredType(
  column: ViewColumn,
  sources: readonly CollectionDefinition[],
): Pick<FieldDefinition, 'type' | 'collection' | 'values'> {
  for (const source of sources) {
    const field = source.fields.find((f) => f.name === column.name)
    if (!field || field.type === 'password' || (field.type === 'relation' && isMultiValued(field))) continue
    if (column.kind !== null && storageKind(field) !== column.kind) continue
    if (field.type === 'relation') return { type: 'relation', collection: field.collection! }
    if (field.type === 'select' && !isMultiValued(field)) return { type: 'select', values: field.values! }
    if (field.type === 'select' || field.type === 'file')
      return isMultiValued(field) ? { type: 'json' } : { type: 'text' }
    return { type: field.type === 'autodate' ? 'date' : field.type }
  }
  return { type: column.kind === null ? 'text' : typeOfKind[column.kind] }
}
