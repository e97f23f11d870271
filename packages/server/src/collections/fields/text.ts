import { createRequire } from 'node:module'
import type SanitizeHtml from 'sanitize-html'
import type { FieldDefinition } from '../types.js'
import { type FieldKind, isBlank, isNonNegativeInteger } from './field-kind.js'

const MAX_TEXT = 1_000_000

function checkLengthOptions(field: FieldDefinition): Record<string, string> {
  const problems: Record<string, string> = {}
  if (field.min !== undefined && !isNonNegativeInteger(field.min))
    problems.min = 'must be a whole number >= 0'
  if (field.max !== undefined && (!isNonNegativeInteger(field.max) || field.max > MAX_TEXT))
    problems.max = `must be a whole number from 0 to ${MAX_TEXT}`
  if (isNonNegativeInteger(field.min) && isNonNegativeInteger(field.max) && field.min > field.max)
    problems.min = 'must not exceed max'
  return problems
}

function lengthSchema(field: FieldDefinition): Record<string, unknown> {
  return {
    type: 'string',
    ...(typeof field.min === 'number' && field.min > 0 ? { minLength: field.min } : {}),
    maxLength: typeof field.max === 'number' ? field.max : MAX_TEXT,
  }
}

export const textField: FieldKind = {
  type: 'text',
  options: ['min', 'max', 'pattern'],
  checkDefinition(field) {
    const problems = checkLengthOptions(field)
    if (field.pattern !== undefined) {
      if (typeof field.pattern !== 'string' || field.pattern.length > 500)
        problems.pattern = 'must be a string of at most 500 characters'
      else {
        try {
          new RegExp(field.pattern, 'u')
        } catch {
          problems.pattern = 'is not a valid regular expression'
        }
      }
    }
    return problems
  },
  valueSchema(field) {
    return { ...lengthSchema(field), ...(field.pattern ? { pattern: field.pattern } : {}) }
  },
  normalize: (_field, value) => value,
  emptyValue: () => '',
  isEmpty: isBlank,
}

let sanitizer: ((html: string) => string) | undefined

/**
 * Markup that cannot run script; the allow-list is sanitize-html's default plus images.
 * The library (and its HTML and CSS parsers) loads with the first editor value written.
 */
function sanitizeEditorHtml(html: string): string {
  if (!sanitizer) {
    const sanitizeHtml = createRequire(import.meta.url)('sanitize-html') as typeof SanitizeHtml
    const allowList: SanitizeHtml.IOptions = {
      allowedTags: [...sanitizeHtml.defaults.allowedTags, 'img'],
      allowedAttributes: {
        ...sanitizeHtml.defaults.allowedAttributes,
        img: ['src', 'alt', 'title', 'width', 'height'],
      },
      allowedSchemes: ['http', 'https', 'mailto'],
    }
    sanitizer = (value) => sanitizeHtml(value, allowList)
  }
  return sanitizer(html)
}

export const editorField: FieldKind = {
  type: 'editor',
  options: ['max'],
  checkDefinition: checkLengthOptions,
  valueSchema: lengthSchema,
  normalize: (_field, value) => sanitizeEditorHtml(value as string),
  emptyValue: () => '',
  isEmpty: isBlank,
}

// What a password must look like is the collection's password policy (password-policy.ts).
// Only the system field of auth collections has this kind; users cannot define one.
export const passwordField: FieldKind = {
  type: 'password',
  options: [],
  checkDefinition: () => ({}),
  valueSchema: () => ({ type: 'string' }),
  normalize: (_field, value) => value,
  emptyValue: () => '',
  isEmpty: isBlank,
}
