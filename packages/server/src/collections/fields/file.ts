import type { FieldDefinition } from '../types.js'
import { type FieldKind, FieldValueError, isNonNegativeInteger } from './field-kind.js'

/** A file that arrived with a write and is already in storage under its stored `name`. */
export class UploadedFile {
  constructor(
    /** Safe and unguessable: the original name's letters, a random part and the type's extension. */
    readonly name: string,
    /** As the client named it; kept as metadata and offered back as the download name. */
    readonly originalName: string,
    readonly size: number,
    /** Detected from the content, never taken from the client. */
    readonly type: string,
  ) {}
}

export const DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024
const MAX_FILE_SIZE = 10 * 1024 ** 3
const MAX_FILES = 99
/** `WxH` (cropped to fill, centred), `WxHt`/`WxHb` (cropped from the top/bottom), `WxHf` (fit inside), `Wx0`, `0xH`. */
export const THUMB_SIZE = /^(\d{1,4})x(\d{1,4})([tbf])?$/
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/([a-z0-9][a-z0-9!#$&^_.+-]{0,63}|\*)$/

export function isMultipleFiles(field: FieldDefinition): boolean {
  return (field.maxSelect ?? 1) > 1
}

/** What a body may hold for a file field: names of the record's files to keep, or new uploads. */
export type FileValue = string | UploadedFile

function isFileValue(value: unknown): value is FileValue {
  return typeof value === 'string' || value instanceof UploadedFile
}

function checkThumbs(thumbs: unknown): string | undefined {
  if (!Array.isArray(thumbs) || thumbs.length > 20) return 'must be a list of at most 20 sizes'
  for (const size of thumbs) {
    const match = typeof size === 'string' ? THUMB_SIZE.exec(size) : null
    if (!match) return `"${String(size)}" is not a size such as 100x100, 200x0, 0x300 or 640x480f`
    if (match[1] === '0' && match[2] === '0') return `"${size}" sets neither width nor height`
    if (Number(match[1]) > 4096 || Number(match[2]) > 4096) return `"${size}" is larger than 4096 pixels`
  }
  return undefined
}

export const fileField: FieldKind = {
  type: 'file',
  options: ['maxSelect', 'maxSize', 'mimeTypes', 'thumbs', 'protected'],
  checkDefinition(field) {
    const problems: Record<string, string> = {}
    if (
      field.maxSelect !== undefined &&
      (!isNonNegativeInteger(field.maxSelect) || field.maxSelect < 1 || field.maxSelect > MAX_FILES)
    )
      problems.maxSelect = `must be a whole number from 1 to ${MAX_FILES}`
    if (
      field.maxSize !== undefined &&
      (!isNonNegativeInteger(field.maxSize) || field.maxSize < 1 || field.maxSize > MAX_FILE_SIZE)
    )
      problems.maxSize = `must be a number of bytes from 1 to ${MAX_FILE_SIZE}`
    if (field.mimeTypes !== undefined) {
      const types = field.mimeTypes as unknown
      if (
        !Array.isArray(types) ||
        types.length > 100 ||
        !types.every((type) => typeof type === 'string' && MIME_TYPE.test(type))
      )
        problems.mimeTypes = 'must be a list of lower-case media types such as image/png or image/*'
    }
    if (field.thumbs !== undefined) {
      const problem = checkThumbs(field.thumbs)
      if (problem) problems.thumbs = problem
    }
    if (field.protected !== undefined && typeof field.protected !== 'boolean')
      problems.protected = 'must be true or false'
    return problems
  },
  valueSchema(field) {
    // Objects are uploads: the multipart reader is the only source of them, and normalize checks it.
    const one = { anyOf: [{ type: 'string', maxLength: 255 }, { type: 'object' }] }
    // A single field given a list is answered by normalize, which can say "takes one file".
    const many = { type: 'array', items: one, maxItems: MAX_FILES * 2 }
    return isMultipleFiles(field) ? many : { anyOf: [one, many] }
  },
  normalize(field, value) {
    const values = Array.isArray(value) ? value : [value]
    if (!values.every(isFileValue))
      throw new FieldValueError(
        'invalid_file',
        'must be an uploaded file or the name of a file of this record',
      )
    if (!isMultipleFiles(field) && values.length > 1)
      throw new FieldValueError('too_many_files', 'takes one file')
    return values.filter((item) => item !== '')
  },
  emptyValue: (field) => (isMultipleFiles(field) ? [] : ''),
  isEmpty: (value) =>
    value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0),
}

/** The stored names a record's value holds: one name or none for a single field, a list for a multiple one. */
export function fileNames(value: unknown): string[] {
  if (Array.isArray(value))
    return value.filter((name): name is string => typeof name === 'string' && name !== '')
  return typeof value === 'string' && value !== '' ? [value] : []
}
