import { type FieldKind, FieldValueError, isNonNegativeInteger } from './field-kind.js'

export const selectField: FieldKind = {
  type: 'select',
  options: ['values', 'maxSelect'],
  checkDefinition(field) {
    const problems: Record<string, string> = {}
    const values = field.values
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      values.length > 1000 ||
      !values.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 255) ||
      new Set(values).size !== values.length
    )
      problems.values = 'must be a list of 1 to 1000 distinct, non-empty strings'
    if (field.maxSelect !== undefined && (!isNonNegativeInteger(field.maxSelect) || field.maxSelect < 1))
      problems.maxSelect = 'must be a whole number >= 1'
    return problems
  },
  valueSchema(field) {
    const one = { type: 'string', enum: field.values ?? [] }
    if ((field.maxSelect ?? 1) <= 1) return { anyOf: [one, { const: '' }] }
    return { type: 'array', items: one, maxItems: field.maxSelect, uniqueItems: true }
  },
  normalize(field, value) {
    if ((field.maxSelect ?? 1) <= 1) return value === '' ? null : value
    if (!Array.isArray(value)) throw new FieldValueError('invalid_type', 'must be a list')
    return value
  },
  emptyValue: (field) => ((field.maxSelect ?? 1) > 1 ? [] : null),
  isEmpty: (value) =>
    value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0),
}
