import { type FieldKind, isNumber } from './field-kind.js'

export const numberField: FieldKind = {
  type: 'number',
  options: ['min', 'max', 'onlyInt'],
  checkDefinition(field) {
    const problems: Record<string, string> = {}
    if (field.min !== undefined && !isNumber(field.min)) problems.min = 'must be a number'
    if (field.max !== undefined && !isNumber(field.max)) problems.max = 'must be a number'
    if (isNumber(field.min) && isNumber(field.max) && field.min > field.max)
      problems.min = 'must not exceed max'
    if (field.onlyInt !== undefined && typeof field.onlyInt !== 'boolean')
      problems.onlyInt = 'must be true or false'
    return problems
  },
  valueSchema: (field) => ({
    type: field.onlyInt ? 'integer' : 'number',
    ...(isNumber(field.min) ? { minimum: field.min } : {}),
    ...(isNumber(field.max) ? { maximum: field.max } : {}),
  }),
  normalize: (_field, value) => value,
  emptyValue: () => 0,
  isEmpty: (value) => value === null || value === undefined,
}
