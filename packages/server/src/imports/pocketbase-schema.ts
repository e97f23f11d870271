import {
  type CollectionDefinition,
  type CollectionOptions,
  type CollectionType,
  emptyDefinition,
  type FieldDefinition,
  hasColumn,
  type IndexDefinition,
  isReservedFieldName,
  isValidName,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  newStableId,
  OTP_LENGTH,
  systemFieldsFor,
} from '../collections/index.js'
import type { ImportNote } from './import-report.js'
import type { PocketBaseCollection, PocketBaseField } from './pocketbase-data.js'
import { translateField } from './pocketbase-fields.js'
import { translateIndex } from './pocketbase-indexes.js'

/** A PocketBase collection as Plinth will have it, every rule still null. */
export interface ImportedCollection {
  source: PocketBaseCollection
  definition: CollectionDefinition
  /** Where each PocketBase field's values go, by PocketBase field name (system fields included). */
  fields: Map<string, FieldDefinition>
}

const STABLE_ID = /^[a-z0-9_]{3,40}$/
const MAX_INDEXES = 50
/** PocketBase's placeholder for its installer: created before the first superuser, never a person. */
export const POCKETBASE_INSTALLER = '__pbinstaller@example.com'
/** PocketBase's system fields that are Plinth's system fields too, of the same meaning. */
const systemFieldNames: Record<CollectionType, string[]> = {
  base: ['id', 'created', 'updated'],
  auth: ['id', 'created', 'updated', 'email', 'emailVisibility', 'verified', 'password', 'tokenKey'],
  view: ['id'],
}
const collectionTypes = new Set<string>(['base', 'auth', 'view'])

class IdAllocator {
  readonly #used: Set<string>

  constructor(used: Iterable<string>) {
    this.#used = new Set(used)
  }

  /** The given id when Plinth takes it and it is free, else a new one. */
  take(given: string, prefix: string): string {
    const id =
      STABLE_ID.test(given) && !given.startsWith('sys_') && !this.#used.has(given)
        ? given
        : newStableId(prefix)
    this.#used.add(id)
    return id
  }
}

/**
 * Plinth definitions of the user collections of a PocketBase: fields, indexes and auth
 * options, with a note for everything that did not carry over. Ids of collections and
 * fields are kept where Plinth takes them; field ids are unique across all collections,
 * as Plinth names a multi relation's table after its field id.
 */
export function translateSchema(
  sources: readonly PocketBaseCollection[],
  existing: readonly CollectionDefinition[],
  notes: ImportNote[],
): ImportedCollection[] {
  const collectionIds = new IdAllocator(existing.map((c) => c.id))
  const fieldIds = new IdAllocator(existing.flatMap((c) => c.fields.map((f) => f.id)))
  const system = sources.filter((c) => c.system && c.name !== '_superusers').map((c) => c.name)
  if (system.length > 0)
    notes.push({
      subject: system.join(', '),
      problem:
        "PocketBase's own records of sign-in (codes, second factors, OAuth2 links, known devices) are not imported; users sign in again",
    })
  const chosen = sources.filter((source) => {
    if (source.system) return false
    if (!collectionTypes.has(source.type))
      notes.push({ subject: source.name, problem: `Plinth has no ${source.type} collections; not imported` })
    else if (!isValidName(source.name))
      notes.push({
        subject: source.name,
        problem: 'Plinth names start with a letter and hold at most 63 letters, digits and _; not imported',
      })
    else return true
    return false
  })
  const targets = new Map(chosen.map((source) => [source.id, source]))
  const ids = new Map(chosen.map((source) => [source.id, collectionIds.take(source.id, 'c')]))
  const imported = chosen.map((source) => {
    const type = source.type as CollectionType
    const definition: CollectionDefinition = {
      ...emptyDefinition(type),
      id: ids.get(source.id)!,
      name: source.name,
      created: new Date().toISOString(),
    }
    definition.updated = definition.created
    const fields = new Map<string, FieldDefinition>()
    const systemFields = systemFieldsFor(type)
    for (const name of systemFieldNames[type]) {
      const field = systemFields.find((f) => f.name === name)
      const pocketBase = source.fields.find((f) => f.name === name)
      if (
        field &&
        pocketBase &&
        (name !== 'created' && name !== 'updated' ? true : pocketBase.type === 'autodate')
      )
        fields.set(name, field)
    }
    definition.fields = [...systemFields]
    const taken = new Set(systemFields.map((f) => f.name.toLowerCase()))
    for (const origin of source.fields) {
      if (fields.has(origin.name)) continue
      const subject = `${source.name}.${origin.name}`
      const problem = (why: string) =>
        type !== 'view' && notes.push({ subject, problem: `${why}; not imported` })
      if (origin.system && systemFieldNames[type].includes(origin.name)) continue
      if (!isValidName(origin.name) || isReservedFieldName(origin.name)) {
        problem('Plinth refuses this field name')
        continue
      }
      if (taken.has(origin.name.toLowerCase())) {
        problem(`Plinth has a field of this name already (${origin.type} here)`)
        continue
      }
      const translation = translateField(origin, {
        collection: { name: source.name, type },
        relationTarget(collectionId) {
          const target = targets.get(collectionId)
          if (!target) return { problem: 'it points at a collection that is not imported' }
          if (target.type === 'view')
            return {
              problem: `it points at the view ${target.name}; Plinth relations point at base and auth collections`,
            }
          return { name: target.name }
        },
      })
      if ('problem' in translation) {
        problem(translation.problem)
        continue
      }
      if (type !== 'view') for (const note of translation.notes) notes.push({ subject, problem: note })
      const field = { id: fieldIds.take(origin.id, 'f'), ...translation.field } as FieldDefinition
      definition.fields.push(field)
      fields.set(origin.name, field)
      taken.add(origin.name.toLowerCase())
    }
    if (type === 'view') definition.viewQuery = String(source.options.viewQuery ?? '')
    else definition.indexes = indexesOf(source, definition, fields, notes)
    if (type === 'auth') definition.options = authOptions(source, definition, notes)
    return { source, definition, fields }
  })
  return imported
}

function indexesOf(
  source: PocketBaseCollection,
  definition: CollectionDefinition,
  fields: Map<string, FieldDefinition>,
  notes: ImportNote[],
): IndexDefinition[] {
  const indexes: IndexDefinition[] =
    definition.type === 'auth' ? [{ id: 'sys_email_unique', fields: ['email'], unique: true }] : []
  const seen = new Set<string>()
  for (const statement of source.indexes) {
    const translation = translateIndex(
      statement,
      (name) => {
        const field = fields.get(name)
        return field && hasColumn(field) ? field : undefined
      },
      definition.type === 'auth',
    )
    if (translation === null) continue
    const subject = `${source.name} index ${translation.name}`
    if ('problem' in translation) {
      notes.push({ subject, problem: `${translation.problem}; not created` })
      continue
    }
    const signature = `${translation.unique}:${translation.fields.join(',')}`
    if (seen.has(signature)) continue
    if (indexes.length >= MAX_INDEXES || translation.fields.length > 8) {
      notes.push({ subject, problem: 'Plinth takes 50 indexes of at most 8 fields; not created' })
      continue
    }
    seen.add(signature)
    indexes.push({
      id: newStableId('i'),
      fields: translation.fields,
      ...(translation.unique ? { unique: true } : {}),
    })
  }
  return indexes
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}

/** Auth options that mean the same in Plinth; the rest is noted. */
function authOptions(
  source: PocketBaseCollection,
  definition: CollectionDefinition,
  notes: ImportNote[],
): CollectionOptions {
  const options: CollectionOptions = {}
  const note = (what: string, problem: string) => notes.push({ subject: `${source.name} ${what}`, problem })
  const { authRule, manageRule } = source.options
  if (authRule === 'verified = true' || authRule === 'verified=true') options.onlyVerified = true
  else if (authRule === null)
    note('authRule', 'null (nobody may sign in) has no equivalent: Plinth lets every record sign in')
  else if (typeof authRule === 'string' && authRule.trim() !== '')
    note(
      'authRule',
      `${JSON.stringify(authRule)} has no equivalent: Plinth lets every record sign in (onlyVerified is its one condition)`,
    )
  if (typeof manageRule === 'string')
    note(
      'manageRule',
      `${JSON.stringify(manageRule)} has no equivalent: only superusers manage other records' credentials`,
    )
  const passwordAuth = record(source.options.passwordAuth)
  if (passwordAuth.enabled === false)
    note('passwordAuth', 'password sign-in was off; Plinth always offers it')
  const identities = Array.isArray(passwordAuth.identityFields)
    ? passwordAuth.identityFields.map(String)
    : ['email']
  const usable = identities.filter((name) => name === 'email' || isUniqueText(definition, name))
  if (usable.length < identities.length)
    note(
      'passwordAuth.identityFields',
      `${identities.filter((n) => !usable.includes(n)).join(', ')} is not an imported text field with a unique index; sign-in uses the others`,
    )
  if (usable.length > 0 && (usable.length > 1 || usable[0] !== 'email')) options.identityFields = usable
  const otp = record(source.options.otp)
  if (otp.enabled === true) {
    const length = Math.min(
      OTP_LENGTH.max,
      Math.max(OTP_LENGTH.min, Number(otp.length) || OTP_LENGTH.default),
    )
    options.otp = { enabled: true, length }
  }
  if (record(source.options.mfa).enabled === true)
    note(
      'mfa',
      "PocketBase's second sign-in method is not Plinth's MFA (TOTP, passkeys): it is off; users enable TOTP or passkeys themselves",
    )
  const providers = record(source.options.oauth2).providers
  if (Array.isArray(providers) && providers.length > 0)
    note(
      'oauth2',
      `providers ${providers.map((p) => String(record(p).name)).join(', ')} are not imported (their secrets stay in PocketBase): configure them again at /api/collections/${source.name}/oauth2-providers`,
    )
  const password = source.fields.find((f) => f.name === 'password' && f.type === 'password')
  if (password) passwordPolicy(password, options, (problem) => note('password', problem))
  return options
}

function isUniqueText(definition: CollectionDefinition, name: string): boolean {
  const field = definition.fields.find((f) => f.name === name)
  return (
    field?.type === 'text' &&
    definition.indexes.some((index) => index.unique && index.fields.length === 1 && index.fields[0] === name)
  )
}

function passwordPolicy(
  field: PocketBaseField,
  options: CollectionOptions,
  note: (problem: string) => void,
): void {
  const min = Number(field.min) || 0
  const max = Number(field.max) || 0
  const policy: NonNullable<CollectionOptions['passwordPolicy']> = {}
  if (min > MIN_PASSWORD_LENGTH && min <= MAX_PASSWORD_LENGTH) policy.minLength = min
  if (max > 0 && max >= Math.max(min, MIN_PASSWORD_LENGTH) && max <= MAX_PASSWORD_LENGTH)
    policy.maxLength = max
  if (Object.keys(policy).length > 0) options.passwordPolicy = policy
  if (typeof field.pattern === 'string' && field.pattern !== '')
    note(
      `the pattern ${JSON.stringify(field.pattern)} is not kept: Plinth's passwordPolicy asks for kinds of characters instead`,
    )
}
