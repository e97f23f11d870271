import { canonicalDate, DATE_VALUE_FORMAT } from '../dates.js'
import type { FieldDefinition } from '../types.js'
import { type FieldKind, FieldValueError, isBlank } from './field-kind.js'

function checkBound(field: FieldDefinition, key: 'min' | 'max', problems: Record<string, string>): void {
  const bound = field[key]
  if (bound !== undefined && (typeof bound !== 'string' || canonicalDate(bound) === null))
    problems[key] = `must be ${DATE_VALUE_FORMAT}`
}

export const dateField: FieldKind = {
  type: 'date',
  options: ['min', 'max'],
  checkDefinition(field) {
    const problems: Record<string, string> = {}
    checkBound(field, 'min', problems)
    checkBound(field, 'max', problems)
    return problems
  },
  valueSchema: () => ({ type: 'string', maxLength: 40 }),
  normalize(field, value) {
    if (value === '') return null
    const date = canonicalDate(value as string)
    if (date === null) throw new FieldValueError('invalid_date', `must be ${DATE_VALUE_FORMAT}`)
    if (typeof field.min === 'string' && date < canonicalDate(field.min)!)
      throw new FieldValueError('too_early', `must not be before ${field.min}`)
    if (typeof field.max === 'string' && date > canonicalDate(field.max)!)
      throw new FieldValueError('too_late', `must not be after ${field.max}`)
    return date
  },
  emptyValue: () => null,
  isEmpty: isBlank,
}

/** Set by Plinth on create and/or update; never written from a body. */
export const autodateField: FieldKind = {
  type: 'autodate',
  options: ['onCreate', 'onUpdate'],
  checkDefinition(field) {
    const problems: Record<string, string> = {}
    if (field.onCreate !== undefined && typeof field.onCreate !== 'boolean')
      problems.onCreate = 'must be true or false'
    if (field.onUpdate !== undefined && typeof field.onUpdate !== 'boolean')
      problems.onUpdate = 'must be true or false'
    if (!field.onCreate && !field.onUpdate) problems.onCreate = 'onCreate or onUpdate must be true'
    return problems
  },
  valueSchema: () => ({ type: 'string' }),
  normalize: (_field, value) => value,
  emptyValue: () => null,
  isEmpty: isBlank,
}
