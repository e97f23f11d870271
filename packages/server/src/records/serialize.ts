import { hash } from 'node:crypto'
import type { CollectionDefinition, FieldDefinition } from '../collections/index.js'
import { hasColumn, storageKind, VERSION_COLUMN } from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { BadRequestError } from '../errors/index.js'
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
  return withCollection(record, collection)
}

/** PocketBase's two record properties; its clients build file URLs and caches keys from them. */
function withCollection(record: RecordData, collection: CollectionDefinition): RecordData {
  record.collectionId = collection.id
  record.collectionName = collection.name
  return record
}

/**
 * A record as a superuser sees it (from an event, say) as this caller would see it: only
 * the fields returned to the caller, never a hidden one, and the email only where visible.
 */
export function showRecord(collection: CollectionDefinition, record: RecordData, caller: Caller): RecordData {
  const shown: RecordData = {}
  for (const field of collection.fields)
    if (!field.hidden && isReturned(field, caller) && Object.hasOwn(record, field.name))
      shown[field.name] = record[field.name]
  if (collection.type === 'auth' && !canSeeEmail(collection, shown, caller)) delete shown.email
  return withCollection(shown, collection)
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
  return `v${hash('sha256', content, 'base64url').slice(0, 22)}`
}

/** Strong ETag of a record version (RFC 9110 §8.8.3). */
export function etagOf(version: unknown): string {
  return `"${String(version)}"`
}

// RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, where etagc excludes the quote
// and controls but not the comma, so a list is read tag by tag, not split at commas.
const LIST_ITEM = /[ \t]*(W\/)?("[\x21\x23-\x7e\x80-\xff]*")[ \t]*(,|$)/y

function invalidIfMatch(message: string): BadRequestError {
  return new BadRequestError(`The If-Match header is invalid: ${message}.`, 'invalid_header', {
    'If-Match': { code: 'invalid_header', message },
  })
}

/** The strong ETags of an If-Match list; a malformed list or a weak tag is the client's mistake. */
function ifMatchTags(header: string): string[] {
  const tags: string[] = []
  LIST_ITEM.lastIndex = 0
  while (LIST_ITEM.lastIndex < header.length) {
    const match = LIST_ITEM.exec(header)
    if (!match) throw invalidIfMatch('must be * or a comma-separated list of quoted ETags, such as "abc"')
    // RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak ETag could never match.
    if (match[1]) throw invalidIfMatch('weak ETags (W/"…") never match; send the strong ETag of the record')
    tags.push(match[2]!)
    if (match[3] === '') break
  }
  if (tags.length === 0) throw invalidIfMatch('must be * or at least one quoted ETag')
  return tags
}

/** Whether a write may go on: no header, `*` (any existing record), or a list holding the record's ETag. */
export function ifMatchAllows(header: string | undefined, version: unknown): boolean {
  if (header === undefined) return true
  const value = header.trim()
  if (value === '*') return true
  return ifMatchTags(value).includes(etagOf(version))
}
