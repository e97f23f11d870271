import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import {
  alwaysReadOnlyFields,
  type CollectionDefinition,
  emailAsPasswordProblem,
  type FieldDefinition,
  FieldValueError,
  type FileValue,
  fieldKind,
  passwordProblem,
  UploadedFile,
} from '../collections/index.js'
import { type FieldErrors, ValidationError } from '../errors/index.js'

export type WriteMode = 'create' | 'update'

export interface ValidationOptions {
  mode: WriteMode
  isSuperuser: boolean
  /** The email-change flow's update: the one write after create that may set an auth record's email. */
  isEmailChange?: boolean
  /** Checks the fields only: a record a before-hook changed carries no password input. */
  ignorePassword?: boolean
}

/**
 * What a body asks of one file field: `set` replaces the list (names of files to keep, and
 * uploads), `field+` appends uploads, `field-` removes files by name. The result depends on
 * the record's current files, so it is worked out once the record is read (file-values.ts).
 */
export interface FileEdit {
  set?: FileValue[]
  append: UploadedFile[]
  remove: string[]
}

/** The checked, normalised body: field values by name, plus the auth-only inputs. */
export interface CleanBody {
  values: Record<string, unknown>
  /** File fields the body touches; their values join `values` when the write resolves them. */
  files?: Record<string, FileEdit>
  id?: string
  password?: string
  /** Set by the service before the transaction: hashing is slow and must not hold the write lock. */
  passwordHash?: string
}

const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: false, useDefaults: false })
// One compiled validator per definition object (definitions are frozen and replaced on change).
const cache = new WeakMap<CollectionDefinition, Map<string, ValidateFunction>>()

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

/** Fields a body may carry for this collection and mode. */
export function writableFields(
  collection: CollectionDefinition,
  options: ValidationOptions,
): FieldDefinition[] {
  return collection.fields.filter((field) => {
    if (alwaysReadOnlyFields.has(field.name) || field.type === 'autodate') return false
    if (field.name === 'verified' && collection.type === 'auth') return options.isSuperuser
    if (field.name === 'email' && collection.type === 'auth')
      return options.mode === 'create' || options.isEmailChange === true
    return true
  })
}

function compile(collection: CollectionDefinition, options: ValidationOptions): ValidateFunction {
  const key = `${options.mode}:${options.isSuperuser}:${options.isEmailChange === true}`
  let byMode = cache.get(collection)
  if (!byMode) {
    byMode = new Map()
    cache.set(collection, byMode)
  }
  const cached = byMode.get(key)
  if (cached) return cached
  const properties: Record<string, unknown> = {}
  for (const field of writableFields(collection, options)) {
    properties[field.name] = { anyOf: [{ type: 'null' }, fieldKind(field.type).valueSchema(field)] }
    if (field.type === 'file') {
      const many = { type: 'array', maxItems: 200 }
      properties[`${field.name}+`] = { anyOf: [{ type: 'object' }, { ...many, items: { type: 'object' } }] }
      properties[`${field.name}-`] = {
        anyOf: [
          { type: 'string', maxLength: 255 },
          { ...many, items: { type: 'string', maxLength: 255 } },
        ],
      }
    }
  }
  if (options.mode === 'create') properties.id = { type: 'string', pattern: UUID }
  if (collection.type === 'auth') properties.passwordConfirm = { type: 'string', maxLength: 256 }
  const validate = ajv.compile({ type: 'object', properties, additionalProperties: false })
  byMode.set(key, validate)
  return validate
}

function describe(error: ErrorObject): { field: string; code: string; message: string } {
  const path = error.instancePath.split('/').filter(Boolean)
  const field = path[0] ?? (error.params as { additionalProperty?: string }).additionalProperty ?? 'body'
  if (error.keyword === 'additionalProperties')
    return { field, code: 'unknown_field', message: 'is not a field of this collection' }
  return {
    field,
    code: error.keyword === 'type' ? 'invalid_type' : `invalid_${error.keyword}`,
    message: error.message ?? 'is invalid',
  }
}

// Keyed by names from the body: `constructor` must be a key like any other, not Object's.
function emptyFieldErrors(): FieldErrors {
  return Object.create(null) as FieldErrors
}

/** The most telling Ajv error per field: anyOf wraps each in "null or …", so skip the null branch. */
function fieldErrors(errors: ErrorObject[], collection: CollectionDefinition): FieldErrors {
  const result = emptyFieldErrors()
  const readOnly = new Set(collection.fields.map((f) => f.name))
  for (const error of errors) {
    if (error.keyword === 'anyOf' || (error.keyword === 'type' && error.params.type === 'null')) continue
    const { field, code, message } = describe(error)
    if (code === 'unknown_field' && readOnly.has(field)) {
      result[field] = { code: 'read_only', message: 'cannot be set by this request' }
      continue
    }
    result[field] ??= { code, message }
  }
  for (const error of errors) {
    const { field } = describe(error)
    result[field] ??= { code: 'invalid_value', message: error.message ?? 'is invalid' }
  }
  return result
}

/** Checks a body against the collection, normalises the values and enforces `required` (on create). */
export function validateBody(
  collection: CollectionDefinition,
  body: unknown,
  options: ValidationOptions,
): CleanBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ValidationError({ body: { code: 'invalid_type', message: 'must be a JSON object' } })
  const validate = compile(collection, options)
  // Every field is checked in one pass, so one answer lists every problem of the body.
  const errors = validate(body) ? emptyFieldErrors() : fieldErrors(validate.errors ?? [], collection)
  const input = body as Record<string, unknown>
  const values: Record<string, unknown> = {}
  const files: Record<string, FileEdit> = {}
  for (const field of writableFields(collection, options)) {
    if (Object.hasOwn(errors, field.name)) continue
    if (field.type === 'file') {
      const edit = fileEdit(field, input, options.mode, errors)
      if (edit) files[field.name] = edit
      continue
    }
    const kind = fieldKind(field.type)
    const present = Object.hasOwn(input, field.name)
    if (!present && options.mode === 'update') continue
    const raw = present ? input[field.name] : undefined
    let value: unknown
    try {
      value = raw === null || raw === undefined ? kind.emptyValue(field) : kind.normalize(field, raw)
    } catch (error) {
      if (!(error instanceof FieldValueError)) throw error
      errors[field.name] = { code: error.code, message: error.message }
      continue
    }
    if (field.required && kind.isEmpty(value) && field.type !== 'password') {
      errors[field.name] = { code: 'required', message: 'is required' }
      continue
    }
    if (field.type !== 'password') values[field.name] = value
  }
  const clean: CleanBody = { values }
  if (Object.keys(files).length > 0) clean.files = files
  if (typeof input.id === 'string' && !Object.hasOwn(errors, 'id')) clean.id = input.id.toLowerCase()
  if (collection.type === 'auth' && !options.ignorePassword)
    checkPassword(collection, input, options, errors, clean)
  if (Object.keys(errors).length > 0) throw new ValidationError(errors)
  return clean
}

/**
 * A new password must meet the collection's policy and, on create, differ from the
 * email in the body; an update compares it with the stored email once the record
 * is known to be visible (RecordService), so the answer reveals nothing.
 */
function checkPassword(
  collection: CollectionDefinition,
  input: Record<string, unknown>,
  options: ValidationOptions,
  errors: FieldErrors,
  clean: CleanBody,
): void {
  const password = input.password
  if (password === undefined || password === null) {
    if (options.mode === 'create') errors.password ??= { code: 'required', message: 'is required' }
    if (input.passwordConfirm !== undefined)
      errors.passwordConfirm ??= { code: 'unexpected', message: 'is only used with password' }
    return
  }
  if (typeof password !== 'string' || errors.password) return
  const problem =
    passwordProblem(collection, password) ??
    (options.mode === 'create' ? emailAsPasswordProblem(password, clean.values.email ?? input.email) : null)
  if (problem) errors.password = problem
  if (input.passwordConfirm !== password)
    errors.passwordConfirm ??= { code: 'mismatch', message: 'must equal password' }
  if (!errors.password && !errors.passwordConfirm) clean.password = password
}

/** Reads `field`, `field+` and `field-` of a file field; on create an untouched field starts empty. */
function fileEdit(
  field: FieldDefinition,
  input: Record<string, unknown>,
  mode: WriteMode,
  errors: FieldErrors,
): FileEdit | undefined {
  const appendKey = `${field.name}+`
  const removeKey = `${field.name}-`
  if (Object.hasOwn(errors, appendKey) || Object.hasOwn(errors, removeKey)) return undefined
  const edit: FileEdit = { append: [], remove: [] }
  let touched = false
  if (Object.hasOwn(input, field.name)) {
    touched = true
    const raw = input[field.name]
    try {
      edit.set =
        raw === null || raw === undefined ? [] : (fieldKind('file').normalize(field, raw) as FileValue[])
    } catch (error) {
      if (!(error instanceof FieldValueError)) throw error
      errors[field.name] = { code: error.code, message: error.message }
      return undefined
    }
  } else if (mode === 'create') edit.set = []
  if (Object.hasOwn(input, appendKey)) {
    touched = true
    const raw = input[appendKey]
    const uploads = Array.isArray(raw) ? raw : [raw]
    if (!uploads.every((upload) => upload instanceof UploadedFile)) {
      errors[appendKey] = { code: 'invalid_file', message: 'only new files can be appended' }
      return undefined
    }
    edit.append = uploads
  }
  if (Object.hasOwn(input, removeKey)) {
    touched = true
    const raw = input[removeKey]
    edit.remove = (Array.isArray(raw) ? raw : [raw]) as string[]
  }
  return touched || mode === 'create' ? edit : undefined
}
