import type { FastifyRequest } from 'fastify'
import '@fastify/multipart'
import secureJson from 'secure-json-parse'
import type { CollectionDefinition, FieldDefinition, UploadedFile } from '../collections/index.js'
import { isMultiValued } from '../collections/index.js'
import { BadRequestError, PlinthError, ValidationError } from '../errors/index.js'

export const JSON_PAYLOAD = '@jsonPayload'

export interface FormLimits {
  /** Parts (values and files) one request may have. */
  maxParts: number
  /** Bytes one form value (or the @jsonPayload part) may have. */
  maxValueBytes: number
}

/** Receives one file part of the form for `field`; `key` is the form key (`field` or `field+`). */
export type FileReceiver = (field: FieldDefinition, key: string, part: FilePart) => Promise<UploadedFile>

export interface FilePart {
  filename: string
  file: AsyncIterable<Buffer>
}

/** Form values are text; a field's type says what the text stands for, as a JSON body would say it. */
function fromText(field: FieldDefinition | undefined, text: string): unknown {
  if (!field) return text
  switch (field.type) {
    case 'number':
      return text.trim() === '' ? null : Number.isFinite(Number(text)) ? Number(text) : text
    case 'bool':
      if (['true', '1', 'on'].includes(text)) return true
      if (['false', '0', ''].includes(text)) return false
      return text
    case 'json':
      try {
        return secureJson.parse(text)
      } catch {
        return text
      }
    default:
      return text
  }
}

/** The parser's own refusals (a prototype key, too many parts, a cut request) as Plinth's answers. */
export function parserError(error: unknown): unknown {
  if (error instanceof PlinthError) return error
  const code = (error as { code?: string }).code ?? ''
  if (code === 'FST_PROTO_VIOLATION')
    return new BadRequestError('A form key names a property of JavaScript objects.', 'bad_request')
  if (code === 'FST_PARTS_LIMIT' || code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT')
    return new PlinthError(413, 'body_too_large', 'The form has more parts than the limit allows.')
  if (code === 'FST_INVALID_JSON_FIELD_ERROR' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE')
    return new BadRequestError('The form is not valid multipart/form-data.', 'bad_request')
  if (
    (error as { statusCode?: number }).statusCode === 400 ||
    /multipart|Unexpected end/i.test(String(error))
  )
    return new BadRequestError('The form is not valid multipart/form-data.', 'bad_request')
  return error
}

/** The parts of a form, within the limits; file sizes are counted by whoever reads the files. */
export function formParts(request: FastifyRequest, limits: FormLimits) {
  return request.parts({
    limits: {
      parts: limits.maxParts,
      fields: limits.maxParts,
      files: limits.maxParts,
      fieldSize: limits.maxValueBytes,
      fieldNameSize: 200,
      fileSize: Number.MAX_SAFE_INTEGER,
    },
  })
}

/** The `@jsonPayload` part: a JSON object, parsed without prototype keys. */
export function parseJsonPayload(text: string): Record<string, unknown> {
  let payload: unknown
  try {
    payload = secureJson.parse(text)
  } catch (error) {
    throw /prototype/.test(String(error))
      ? new BadRequestError('The @jsonPayload part names a property of JavaScript objects.')
      : new BadRequestError('The @jsonPayload part is not valid JSON.', 'malformed_json')
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw new BadRequestError('The @jsonPayload part must be a JSON object.', 'malformed_json')
  return payload as Record<string, unknown>
}

/** Adds a form value under `key`: a second value for a key makes a list, as does `asList`. */
export function appendFormValue(
  body: Record<string, unknown>,
  key: string,
  value: unknown,
  asList: boolean,
): void {
  if (!Object.hasOwn(body, key)) body[key] = asList ? [value] : value
  else if (Array.isArray(body[key])) (body[key] as unknown[]).push(value)
  else body[key] = [body[key], value]
}

/**
 * Reads a record written as multipart/form-data, as the PocketBase SDK sends it: form
 * values (text, read by each field's type; repeated keys make a list), an optional
 * `@jsonPayload` part holding JSON values, and files as parts under a file field's
 * name (or `name+` to append). Files are handed to `receive` as they arrive, so they
 * stream to storage; what was received is in `uploads` even when reading fails.
 */
export async function readRecordForm(
  request: FastifyRequest,
  collection: CollectionDefinition,
  limits: FormLimits,
  receive: FileReceiver,
  uploads: UploadedFile[],
): Promise<Record<string, unknown>> {
  const fields = new Map(collection.fields.map((field) => [field.name, field]))
  const body: Record<string, unknown> = Object.create(null)
  const parts = formParts(request, limits)
  try {
    for await (const part of parts) {
      if (typeof part.fieldname !== 'string' || part.fieldname === '') {
        if (part.type === 'file') part.file.resume()
        throw new BadRequestError('Every part of the form needs a name.')
      }
      if (part.type === 'file') {
        const name = part.fieldname.endsWith('+') ? part.fieldname.slice(0, -1) : part.fieldname
        const field = fields.get(name)
        if (field?.type !== 'file') {
          part.file.resume()
          throw new ValidationError({
            [part.fieldname]: { code: 'unknown_field', message: 'is not a file field of this collection' },
          })
        }
        const upload = await receive(field, part.fieldname, { filename: part.filename, file: part.file })
        uploads.push(upload)
        appendFormValue(body, part.fieldname, upload, isMultiValued(field) || part.fieldname.endsWith('+'))
        continue
      }
      const text = String(part.value)
      if (part.valueTruncated)
        throw new ValidationError({
          [part.fieldname]: { code: 'too_long', message: `must be at most ${limits.maxValueBytes} bytes` },
        })
      if (part.fieldname === JSON_PAYLOAD) {
        Object.assign(body, parseJsonPayload(text))
        continue
      }
      const isRemoval = part.fieldname.endsWith('-')
      const field = fields.get(isRemoval ? part.fieldname.slice(0, -1) : part.fieldname)
      appendFormValue(
        body,
        part.fieldname,
        isRemoval ? text : fromText(field, text),
        isRemoval || (field !== undefined && isMultiValued(field)),
      )
    }
  } catch (error) {
    throw parserError(error)
  }
  return body
}
