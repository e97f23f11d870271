import { createHash } from 'node:crypto'
import type { CollectionDefinition, FieldDefinition } from '../collections/index.js'
import { hasColumn, storageKind, VERSION_COLUMN } from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import type { Caller } from '../identity/index.js'
import type { RecordData } from './types.js'

/** Never returned to anyone: the password hash and the key that signs the record's tokens. */
const neverReturned = new Set(['password', 'tokenKey'])

export function isReturned(field: FieldDefinition, caller: Caller): boolean {
  if (neverReturned.has(field.name) && field.system) return false
  return !field.hidden || caller.isSuperuser
}

/** A stored row as the API shows it to this caller. Multi relations are filled in by the caller. */
export function serializeRecord(
  dialect: Dialect,
  collection: CollectionDefinition,
  row: Record<string, unknown>,
  caller: Caller,
  multi: Map<string, string[]> | undefined,
): RecordData {
  const record: RecordData = {}
  for (const field of collection.fields) {
    if (!isReturned(field, caller)) continue
    record[field.name] = hasColumn(field)
      ? dialect.decode(storageKind(field), row[field.name])
      : (multi?.get(field.id) ?? [])
  }
  if (collection.type === 'auth' && !canSeeEmail(collection, record, caller)) delete record.email
  record.collectionName = collection.name
  return record
}

function canSeeEmail(collection: CollectionDefinition, record: RecordData, caller: Caller): boolean {
  if (caller.isSuperuser || record.emailVisibility === true) return true
  return caller.auth?.collection.id === collection.id && caller.auth.record.id === record.id
}

/**
 * What a record's ETag derives from: its version, or for a view's record (which has
 * none) a digest of the row, so the tag changes exactly when the row does.
 */
export function versionOf(row: Record<string, unknown>): unknown {
  if (VERSION_COLUMN in row) return row[VERSION_COLUMN]
  const content = JSON.stringify(Object.entries(row), (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  )
  return `v${createHash('sha256').update(content).digest('base64url').slice(0, 22)}`
}

/** Strong ETag of a record version (RFC 9110 §8.8.3). */
export function etagOf(version: unknown): string {
  return `"${String(version)}"`
}

/** RFC 9110 §13.1.1: If-Match compares strongly, so a weak tag never matches; `*` matches any record. */
export function ifMatchAllows(header: string | undefined, version: unknown): boolean {
  if (header === undefined) return true
  const value = header.trim()
  if (value === '*') return true
  const current = etagOf(version)
  return value.split(',').some((tag) => tag.trim() === current)
}
