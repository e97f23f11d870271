import type { FieldErrors } from '../errors/index.js'
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  type PasswordPolicy,
  passwordPolicyKeys,
  passwordRequirements,
} from './password-policy.js'
import type { CollectionDefinition, FieldDefinition, IndexDefinition } from './types.js'

/** The mails of the email flows, as `options.mailTemplates` and `options.mailLinks` name them. */
export type MailKind = 'verification' | 'passwordReset' | 'emailChange' | 'otp'
export const mailKinds: readonly MailKind[] = ['verification', 'passwordReset', 'emailChange', 'otp']

/** Mails that carry a link. */
export type LinkKind = Exclude<MailKind, 'otp'>
export const linkKinds: readonly LinkKind[] = ['verification', 'passwordReset', 'emailChange']

export const mailParts = ['subject', 'text', 'html'] as const
export type MailTemplate = Record<(typeof mailParts)[number], string>

/**
 * The options of a collection: base and auth collections take `updateRuleChecksNewRecord`,
 * auth collections the rest too, view collections none. Every key is checked when the
 * definition is saved, so the code that reads them trusts them.
 */
export interface CollectionOptions {
  /**
   * Whether an update must also leave a record its update rule allows (PostgreSQL's
   * `WITH CHECK`); true when not set. False checks the record as it was only.
   */
  updateRuleChecksNewRecord?: boolean
  /** Refuse sign-in until the email address is verified. */
  onlyVerified?: boolean
  /** What `identity` of `auth-with-password` is matched against; `email` when not set. */
  identityFields?: string[]
  /** Sign-in with one-time codes by mail. */
  otp?: { enabled: boolean; length?: number }
  /** Flag records without a second factor at sign-in (`mfaEnrollmentRequired`). */
  mfa?: { required: boolean }
  /** Parts of the default mails to replace, per mail. */
  mailTemplates?: Partial<Record<MailKind, Partial<MailTemplate>>>
  /** The app's own pages that the links of the mails open, instead of Plinth's. */
  mailLinks?: Partial<Record<LinkKind, string>>
  passwordPolicy?: PasswordPolicy
}

const recordOptionKeys = ['updateRuleChecksNewRecord'] as const

const authOptionKeys = [
  ...recordOptionKeys,
  'onlyVerified',
  'identityFields',
  'otp',
  'mfa',
  'mailTemplates',
  'mailLinks',
  'passwordPolicy',
] as const

export const OTP_LENGTH = { min: 6, max: 10, default: 6 }
const MAX_IDENTITY_FIELDS = 5
const MAX_SUBJECT = 300
const MAX_BODY = 20_000
const MAX_URL = 2000

// A mail without its secret is useless: the link (or bare token) of a link mail, the code of an OTP mail.
const secretPlaceholders: Record<MailKind, RegExp> = {
  verification: /\{\{\s*(LINK|TOKEN)\s*\}\}/,
  passwordReset: /\{\{\s*(LINK|TOKEN)\s*\}\}/,
  emailChange: /\{\{\s*(LINK|TOKEN)\s*\}\}/,
  otp: /\{\{\s*CODE\s*\}\}/,
}

/** `options.identityFields`, or the email alone. */
export function identityFieldsOf(collection: CollectionDefinition): string[] {
  return collection.options.identityFields ?? ['email']
}

type Shape = Pick<CollectionDefinition, 'type' | 'fields' | 'indexes'>

const optionKeys: Record<Shape['type'], readonly string[]> = {
  auth: authOptionKeys,
  base: recordOptionKeys,
  view: [],
}

/**
 * Checks the options of a definition, reporting each problem under `options.<path>`.
 * Each type of collection takes its keys of {@link CollectionOptions}.
 */
export function checkCollectionOptions(value: unknown, collection: Shape, errors: FieldErrors): void {
  const check = new OptionChecker(errors)
  const allowed = optionKeys[collection.type]
  if (!check.object(value, '', allowed, `is not an option of ${collection.type} collections`)) return
  check.boolean(value.updateRuleChecksNewRecord, 'updateRuleChecksNewRecord')
  check.boolean(value.onlyVerified, 'onlyVerified')
  checkIdentityFields(check, value.identityFields, collection)
  if (check.object(value.otp, 'otp', ['enabled', 'length'])) {
    check.boolean(value.otp.enabled, 'otp.enabled', true)
    check.integer(value.otp.length, 'otp.length', OTP_LENGTH.min, OTP_LENGTH.max)
  }
  if (check.object(value.mfa, 'mfa', ['required'])) check.boolean(value.mfa.required, 'mfa.required', true)
  checkMailTemplates(check, value.mailTemplates)
  if (check.object(value.mailLinks, 'mailLinks', linkKinds))
    for (const kind of linkKinds) check.linkBase(value.mailLinks[kind], `mailLinks.${kind}`)
  checkPasswordPolicy(check, value.passwordPolicy)
}

/**
 * The current options in terms of new field names, as a PATCH that renames a
 * field without sending options means them. Names of dropped fields stay, so the
 * check names them.
 */
export function followFieldRenames(
  options: CollectionOptions,
  before: FieldDefinition[],
  after: FieldDefinition[],
): CollectionOptions {
  if (!options.identityFields) return options
  const idByOldName = new Map(before.map((f) => [f.name, f.id]))
  const newNameById = new Map(after.map((f) => [f.id, f.name]))
  return {
    ...options,
    identityFields: options.identityFields.map(
      (name) => newNameById.get(idByOldName.get(name) ?? '') ?? name,
    ),
  }
}

function checkIdentityFields(check: OptionChecker, value: unknown, collection: Shape): void {
  if (value === undefined) return
  const at = 'identityFields'
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IDENTITY_FIELDS) {
    check.problem(at, 'invalid_type', `must list 1 to ${MAX_IDENTITY_FIELDS} field names`)
    return
  }
  value.forEach((name, index) => {
    if (!isIdentityField(name, collection))
      check.problem(
        `${at}.${index}`,
        'invalid_value',
        `${typeof name === 'string' ? name : 'this'} is not email or a text field of the collection with a unique index of its own`,
      )
    else if (value.indexOf(name) !== index)
      check.problem(`${at}.${index}`, 'duplicate', `${name} is listed twice`)
  })
}

/** Sign-in finds one record by the identity, so the field must be unique on its own. */
function isIdentityField(name: unknown, collection: Shape): boolean {
  if (name === 'email') return true
  const field = collection.fields.find((f) => f.name === name)
  if (!field || field.system || field.type !== 'text') return false
  return collection.indexes.some(
    (index: IndexDefinition) => index.unique && index.fields.length === 1 && index.fields[0] === name,
  )
}

function checkMailTemplates(check: OptionChecker, value: unknown): void {
  if (!check.object(value, 'mailTemplates', mailKinds)) return
  for (const kind of mailKinds) {
    const at = `mailTemplates.${kind}`
    const template = value[kind]
    if (!check.object(template, at, mailParts)) continue
    if (Object.keys(template).length === 0)
      check.problem(at, 'invalid_value', `must give at least one of ${mailParts.join(', ')}`)
    for (const part of mailParts) {
      const text = template[part]
      const max = part === 'subject' ? MAX_SUBJECT : MAX_BODY
      if (!check.text(text, `${at}.${part}`, max) || part === 'subject') continue
      if (!secretPlaceholders[kind].test(text as string))
        check.problem(
          `${at}.${part}`,
          'missing_placeholder',
          kind === 'otp' ? 'must contain {{CODE}}' : 'must contain {{LINK}} or {{TOKEN}}',
        )
    }
  }
}

function checkPasswordPolicy(check: OptionChecker, value: unknown): void {
  if (!check.object(value, 'passwordPolicy', passwordPolicyKeys)) return
  const at = 'passwordPolicy'
  const isMinValid = check.integer(
    value.minLength,
    `${at}.minLength`,
    MIN_PASSWORD_LENGTH,
    MAX_PASSWORD_LENGTH,
  )
  const minLength =
    isMinValid && value.minLength !== undefined ? (value.minLength as number) : MIN_PASSWORD_LENGTH
  check.integer(value.maxLength, `${at}.maxLength`, minLength, MAX_PASSWORD_LENGTH)
  for (const requirement of passwordRequirements) check.boolean(value[requirement], `${at}.${requirement}`)
}

/** Small checks that record one problem per path; each answers whether the value may be used further. */
class OptionChecker {
  constructor(private readonly errors: FieldErrors) {}

  problem(path: string, code: string, message: string): void {
    this.errors[path ? `options.${path}` : 'options'] ??= { code, message }
  }

  /** An object (or nothing) with only the given keys; false when absent or malformed. */
  object(
    value: unknown,
    path: string,
    keys: readonly string[],
    unknownMessage = 'is not a known option here',
  ): value is Record<string, unknown> {
    if (value === undefined) return false
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.problem(path, 'invalid_type', 'must be an object')
      return false
    }
    for (const key of Object.keys(value))
      if (!keys.includes(key)) this.problem(path ? `${path}.${key}` : key, 'unknown_field', unknownMessage)
    return true
  }

  boolean(value: unknown, path: string, isRequired = false): void {
    if (value === undefined && !isRequired) return
    if (typeof value !== 'boolean') this.problem(path, 'invalid_type', 'must be true or false')
  }

  integer(value: unknown, path: string, min: number, max: number): boolean {
    if (value === undefined) return true
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.problem(path, 'invalid_type', 'must be a whole number')
      return false
    }
    if (value < min || value > max) {
      this.problem(path, 'out_of_range', `must be from ${min} to ${max}`)
      return false
    }
    return true
  }

  text(value: unknown, path: string, max: number): boolean {
    if (value === undefined) return false
    if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
      this.problem(path, 'invalid_value', `must be a non-empty string of at most ${max} characters`)
      return false
    }
    return true
  }

  /** An absolute http(s) URL without a fragment: the token goes into the fragment. */
  linkBase(value: unknown, path: string): void {
    if (value === undefined) return
    const url =
      typeof value === 'string' && value.length <= MAX_URL && URL.canParse(value) ? new URL(value) : null
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || (value as string).includes('#'))
      this.problem(path, 'invalid_value', 'must be an absolute http(s) URL without a #fragment')
  }
}
