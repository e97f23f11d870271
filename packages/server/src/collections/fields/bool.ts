import type { FieldKind } from './field-kind.js'

export const boolField: FieldKind = {
  type: 'bool',
  options: [],
  checkDefinition: () => ({}),
  valueSchema: () => ({ type: 'boolean' }),
  normalize: (_field, value) => value,
  emptyValue: () => false,
  // A required bool must be true, as with a checkbox that has to be ticked.
  isEmpty: (value) => value !== true,
}
