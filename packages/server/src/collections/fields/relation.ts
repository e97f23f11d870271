import { type FieldKind, FieldValueError, isNonNegativeInteger } from './field-kind.js'

// Record ids are UUIDs, or letters and digits for records imported from PocketBase (15 of
// them unless its id field was changed); anything else cannot point at a record.
const ID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-z]{1,36})$/i

export function isRecordId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value)
}

const onDeleteValues = ['cascade', 'set-null', 'restrict']

export const relationField: FieldKind = {
  type: 'relation',
  options: ['collection', 'maxSelect', 'onDelete'],
  checkDefinition(field, context) {
    const problems: Record<string, string> = {}
    if (typeof field.collection !== 'string' || !context.collectionExists(field.collection))
      problems.collection = 'must name an existing collection'
    if (
      field.maxSelect !== undefined &&
      (!isNonNegativeInteger(field.maxSelect) || field.maxSelect < 1 || field.maxSelect > 1000)
    )
      problems.maxSelect = 'must be a whole number from 1 to 1000'
    if (field.onDelete !== undefined && !onDeleteValues.includes(field.onDelete))
      problems.onDelete = `must be one of ${onDeleteValues.join(', ')}`
    return problems
  },
  valueSchema(field) {
    const one = { type: 'string', maxLength: 36 }
    if ((field.maxSelect ?? 1) <= 1) return one
    return { type: 'array', items: one, maxItems: field.maxSelect, uniqueItems: true }
  },
  normalize(field, value) {
    if ((field.maxSelect ?? 1) <= 1) {
      if (value === '') return null
      if (!isRecordId(value)) throw new FieldValueError('invalid_relation', 'must be a record id')
      return (value as string).toLowerCase()
    }
    const ids = value as unknown[]
    if (!ids.every(isRecordId)) throw new FieldValueError('invalid_relation', 'must be a list of record ids')
    return ids.map((id) => (id as string).toLowerCase())
  },
  emptyValue: (field) => ((field.maxSelect ?? 1) > 1 ? [] : null),
  isEmpty: (value) =>
    value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0),
}
