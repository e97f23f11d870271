import { type FieldKind, FieldValueError, isNonNegativeInteger } from './field-kind.js'

const DEFAULT_MAX_BYTES = 1024 * 1024

export const jsonField: FieldKind = {
  type: 'json',
  options: ['max'],
  checkDefinition(field): Record<string, string> {
    if (field.max !== undefined && (!isNonNegativeInteger(field.max) || field.max < 1))
      return { max: 'must be a size in bytes >= 1' }
    return {}
  },
  valueSchema: () => ({}),
  normalize(field, value) {
    const max = typeof field.max === 'number' ? field.max : DEFAULT_MAX_BYTES
    if (Buffer.byteLength(JSON.stringify(value)) > max)
      throw new FieldValueError('too_large', `must be at most ${max} bytes as JSON`)
    return value
  },
  emptyValue: () => null,
  isEmpty: (value) => value === null || value === undefined,
}
