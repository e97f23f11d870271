import { canonicalDate, type FieldDefinition, FieldValueError, fieldKind } from '../collections/index.js'

/** A PocketBase value Plinth cannot hold as it is: it is left empty, and the reason counted. */
export class UnusableValue extends Error {}

/** JSON text (as PocketBase keeps multiple values and json fields) or a value already parsed. */
export function parseJsonValue(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? null
  try {
    return JSON.parse(raw)
  } catch {
    throw new UnusableValue('values that are not JSON were left empty')
  }
}

export function listOf(raw: unknown): string[] {
  if (raw === null || raw === undefined || raw === '') return []
  const value = parseJsonValue(raw)
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string' && item !== '')
    : []
}

const text = (raw: unknown) => (raw === null || raw === undefined ? '' : String(raw))

/** PocketBase stores booleans as SQLite integers. */
export function boolOf(raw: unknown): boolean {
  return raw === 1 || raw === 1n || raw === true || raw === '1' || raw === 'true'
}

/** PocketBase writes `2024-05-01 10:00:00.000Z`; empty is no date. */
export function dateOf(raw: unknown): string | null {
  const value = text(raw).trim()
  if (value === '') return null
  const date = canonicalDate(value)
  if (date === null) throw new UnusableValue('values that are not dates were left empty')
  return date
}

/** An email as Plinth stores it (trimmed, NFC, lower-case), or the text as it was when Plinth would refuse it. */
function emailOf(field: FieldDefinition, raw: unknown): string {
  try {
    return fieldKind('email').normalize(
      { ...field, onlyDomains: undefined, exceptDomains: undefined },
      text(raw),
    ) as string
  } catch (error) {
    if (error instanceof FieldValueError) return text(raw).trim()
    throw error
  }
}

/**
 * The Plinth value of a PocketBase column for a field that has a column of its own, except
 * relations and files, whose ids and names the import maps itself. Throws UnusableValue when
 * the value cannot be kept.
 */
export function plainValue(field: FieldDefinition, raw: unknown): unknown {
  switch (field.type) {
    case 'number': {
      const value = Number(raw ?? 0)
      return Number.isFinite(value) ? value : 0
    }
    case 'bool':
      return boolOf(raw)
    case 'date':
    case 'autodate':
      return dateOf(raw)
    case 'json':
      return parseJsonValue(raw)
    case 'select':
      if ((field.maxSelect ?? 1) > 1) return listOf(raw)
      return text(raw) === '' ? null : text(raw)
    case 'email':
      return emailOf(field, raw)
    case 'editor':
      // Plinth keeps only sanitised HTML in editor fields, whoever wrote it.
      return fieldKind('editor').normalize(field, text(raw))
    default:
      return text(raw)
  }
}
