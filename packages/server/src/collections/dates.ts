/**
 * Dates as Plinth reads and stores them, shared by the date field and the filter language so
 * that a value one accepts the other accepts too. Stored form: `YYYY-MM-DDTHH:mm:ss.sssZ` (UTC).
 */

const datePattern =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

/**
 * What a time written without a zone means: a record refuses it (the writer's local time is
 * unknown), a filter reads it as UTC (the form the docs and the filter messages show).
 */
export type ZonelessTime = 'refused' | 'utc'

/** What a date field accepts, for the message of a refused value. */
export const DATE_VALUE_FORMAT =
  'a date like 2024-05-01 or 2024-05-01T10:00:00Z (ISO 8601; a time needs Z or an offset such as +02:00; years 0001 to 9999)'

/** What a filter accepts as a date, for the message of a refused comparison. */
export const DATE_FILTER_FORMAT =
  'a date like "2024-05-01" or "2024-05-01 10:00:00" (ISO 8601, UTC unless an offset such as +02:00 follows; years 0001 to 9999)'

/**
 * The stored form of a date, or null when the text is not a real date: Feb 30, month 13 and
 * hour 25 are refused, not rolled over, and so is a year outside 0001-9999 (PostgreSQL has no
 * year 0). A bare date is midnight UTC; digits beyond milliseconds are dropped.
 *
 * @example canonicalDate('2024-05-01T12:00:00+02:00') // '2024-05-01T10:00:00.000Z'
 */
export function canonicalDate(text: string, zonelessTime: ZonelessTime = 'refused'): string | null {
  const match = datePattern.exec(text.trim())
  if (!match) return null
  const [, y, mo, d, h, mi = '0', s = '0', fraction = '', zone] = match
  if (h !== undefined && zone === undefined && zonelessTime === 'refused') return null
  const [year, month, day, hour, minute, second] = [y, mo, d, h ?? '0', mi, s].map(Number) as number[]
  // setUTCFullYear, unlike Date.UTC, does not read years below 100 as 19xx.
  const date = new Date(0)
  date.setUTCFullYear(year!, month! - 1, day!)
  date.setUTCHours(hour!, minute!, second!, Number(fraction.padEnd(3, '0').slice(0, 3)))
  if (
    date.getUTCMonth() !== month! - 1 ||
    date.getUTCDate() !== day! ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  ) {
    return null
  }
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    const digits = zone.slice(1).replace(':', '')
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))
    if (offset > 18 * 60) return null
    date.setTime(date.getTime() - sign * offset * 60_000)
  }
  const iso = date.toISOString()
  return /^\d{4}-/.test(iso) && !iso.startsWith('0000') ? iso : null
}
