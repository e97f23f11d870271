import {
  type CollectionDefinition,
  type FieldDefinition,
  fileNames,
  isMultipleFiles,
  UploadedFile,
} from '../collections/index.js'
import { type FieldErrors, ValidationError } from '../errors/index.js'
import type { RecordData } from './types.js'
import type { CleanBody, FileEdit } from './validator.js'

/** The uploads a write attached, by stored name: what the file listeners record as new files. */
export type Uploads = ReadonlyMap<string, UploadedFile>

const NO_UPLOADS: Uploads = new Map()

function storedValue(field: FieldDefinition, names: string[]): string | string[] {
  return isMultipleFiles(field) ? names : (names[0] ?? '')
}

function resolveOne(
  field: FieldDefinition,
  edit: FileEdit,
  current: string[],
  uploads: Map<string, UploadedFile>,
  errors: FieldErrors,
): string[] | undefined {
  const names: string[] = []
  for (const value of edit.set ?? current) {
    if (value instanceof UploadedFile) {
      uploads.set(value.name, value)
      names.push(value.name)
    } else if (current.includes(value)) names.push(value)
    else {
      errors[field.name] = { code: 'unknown_file', message: `"${value}" is not a file of this record` }
      return undefined
    }
  }
  const removed = new Set(edit.remove)
  const kept = names.filter((name) => !removed.has(name))
  for (const upload of edit.append) {
    uploads.set(upload.name, upload)
    kept.push(upload.name)
  }
  const unique = [...new Set(kept)]
  const max = field.maxSelect ?? 1
  if (unique.length > max) {
    errors[field.name] = {
      code: 'too_many_files',
      message: max === 1 ? 'takes one file' : `takes at most ${max} files`,
    }
    return undefined
  }
  if (field.required && unique.length === 0) {
    errors[field.name] = { code: 'required', message: 'is required' }
    return undefined
  }
  return unique
}

/**
 * Turns the body's file edits into the names the record will hold, against the files it
 * holds now (none on create): kept names must be the record's own, appended files join,
 * removed ones go. The values join `clean.values`; the uploads among them are returned.
 */
export function resolveFileEdits(
  collection: CollectionDefinition,
  clean: CleanBody,
  previous: RecordData | null,
): Uploads {
  if (!clean.files) return NO_UPLOADS
  const uploads = new Map<string, UploadedFile>()
  const errors: FieldErrors = Object.create(null)
  for (const [name, edit] of Object.entries(clean.files)) {
    const field = collection.fields.find((candidate) => candidate.name === name)!
    const names = resolveOne(field, edit, fileNames(previous?.[name]), uploads, errors)
    if (names) clean.values[name] = storedValue(field, names)
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors)
  return uploads
}

/**
 * A before-hook may drop files from a record, never add names of its own: a file name is
 * only ever one that an upload produced for this record.
 */
export function checkHookFileValues(
  collection: CollectionDefinition,
  record: RecordData,
  allowed: RecordData,
): RecordData {
  const values: RecordData = {}
  const errors: FieldErrors = Object.create(null)
  for (const field of collection.fields) {
    if (field.type !== 'file' || !Object.hasOwn(record, field.name)) continue
    const permitted = new Set(fileNames(allowed[field.name]))
    const names = fileNames(record[field.name])
    if (names.some((name) => !permitted.has(name)))
      errors[field.name] = { code: 'unknown_file', message: 'a hook may remove files, not name new ones' }
    else values[field.name] = storedValue(field, names)
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors)
  return values
}
