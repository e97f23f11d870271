import { api } from '../api/client'
import { ApiError, describeError } from '../api/problem'
import { allRecords, BATCH_LIMIT, batch, type RecordsView, recordsPath } from '../api/records'
import type { CollectionModel, RecordModel } from '../api/types'

/** Reads CSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes) into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let at = 0; at < text.length; at++) {
    const char = text[at]
    if (quoted) {
      if (char === '"' && text[at + 1] === '"') {
        cell += '"'
        at++
      } else if (char === '"') quoted = false
      else cell += char
    } else if (char === '"') quoted = true
    else if (char === ',') {
      row.push(cell)
      cell = ''
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[at + 1] === '\n') at++
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += char
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell)
    rows.push(row)
  }
  return rows.filter((cells) => cells.some((value) => value !== ''))
}

const csvCell = (value: unknown): string => {
  const text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** A CSV cell as the value of a field of that type; an empty cell is left out. */
function fromCsv(type: string | undefined, text: string): unknown {
  if (text === '') return undefined
  if (type === 'number') return Number(text)
  if (type === 'bool') return ['true', '1', 'yes', 'on'].includes(text.toLowerCase())
  if (type === 'json' || text.startsWith('[')) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return text
}

/** The records of an import file: a JSON array of objects, or CSV with the field names as its header. */
export function readImport(
  collection: CollectionModel,
  name: string,
  text: string,
): Record<string, unknown>[] {
  if (name.toLowerCase().endsWith('.json') || text.trimStart().startsWith('[')) {
    const data: unknown = JSON.parse(text)
    if (!Array.isArray(data)) throw new Error('A JSON import is an array of records.')
    return data as Record<string, unknown>[]
  }
  const [header = [], ...rows] = parseCsv(text)
  const types = new Map(collection.fields.map((field) => [field.name, field.type]))
  return rows.map((cells) => {
    const record: Record<string, unknown> = {}
    header.forEach((column, at) => {
      const value = fromCsv(types.get(column), cells[at] ?? '')
      if (value !== undefined) record[column] = value
    })
    return record
  })
}

export interface Rejection {
  /** The row of the file, the first record being row 1. */
  row: number
  field: string
  message: string
}

/**
 * Creates the records in batches of {@link BATCH_LIMIT}. A batch is all or nothing, so when one
 * fails (or batches are refused) its records go one at a time, which tells each rejected row
 * and the server's message for each of its fields.
 */
export async function importRecords(
  collection: string,
  records: Record<string, unknown>[],
  onProgress: (done: number) => void,
): Promise<Rejection[]> {
  const rejections: Rejection[] = []
  const url = recordsPath(collection)
  for (let at = 0; at < records.length; at += BATCH_LIMIT) {
    const chunk = records.slice(at, at + BATCH_LIMIT)
    try {
      await batch(chunk.map((body) => ({ method: 'POST', url, body })))
    } catch {
      for (const [offset, body] of chunk.entries()) {
        try {
          await api(url, { method: 'POST', body })
        } catch (failure) {
          const row = at + offset + 1
          const fields = failure instanceof ApiError ? Object.entries(failure.fieldErrors) : []
          if (fields.length === 0) rejections.push({ row, field: '', message: describeError(failure) })
          for (const [field, { message }] of fields) rejections.push({ row, field, message })
        }
      }
    }
    onProgress(Math.min(records.length, at + BATCH_LIMIT))
  }
  return rejections
}

const systemKeys = new Set(['collectionId', 'collectionName', 'expand'])

/**
 * The records of the current filter as a file, read a page of 1,000 at a time (without a
 * count) and gathered as text parts, so no page waits for the whole export.
 */
export async function exportRecords(
  collection: CollectionModel,
  view: RecordsView,
  format: 'csv' | 'json',
  onProgress: (done: number) => void,
): Promise<Blob> {
  const columns = collection.fields.filter((field) => field.type !== 'password').map((field) => field.name)
  const parts: string[] = [format === 'csv' ? `${columns.map(csvCell).join(',')}\r\n` : '[']
  let done = 0
  for await (const page of allRecords(collection.name, view)) {
    for (const record of page) {
      if (format === 'csv') parts.push(`${columns.map((column) => csvCell(record[column])).join(',')}\r\n`)
      else parts.push(`${done > 0 ? ',' : ''}\n${JSON.stringify(withoutSystemKeys(record))}`)
      done++
    }
    onProgress(done)
  }
  if (format === 'json') parts.push('\n]\n')
  return new Blob(parts, { type: format === 'csv' ? 'text/csv' : 'application/json' })
}

function withoutSystemKeys(record: RecordModel): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !systemKeys.has(key)))
}
