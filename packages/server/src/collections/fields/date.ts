import type { FieldDefinition } from '../types.js'
import { type FieldKind, FieldValueError, isBlank } from './field-kind.js'

// Dates with an explicit zone (or a bare date, read as UTC midnight); stored as canonical ISO UTC.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2}))?$/

/** The canonical form of a date string, or null when it is not one. */
export function canonicalDate(value: string): string | null {
  const text = value.trim()
  if (!ISO_DATE.test(text)) return null
  const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text.replace(' ', 'T'))
  return Number.isNaN(date.getTime()) ? null : date.toISOString()
}

function checkBound(field: FieldDefinition, key: 'min' | 'max', problems: Record<string, string>): void {
  const bound = field[key]
  if (bound !== undefined && (typeof bound !== 'string' || canonicalDate(bound) === null))
    problems[key] = 'must be an ISO-8601 date'
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
    if (date === null)
      throw new FieldValueError(
        'invalid_date',
        'must be an ISO-8601 date with a time zone, e.g. 2024-05-01T10:00:00Z',
      )
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
