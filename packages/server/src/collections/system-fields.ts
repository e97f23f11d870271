import type { CollectionType, FieldDefinition } from './types.js'

/** Every record has these; they are not declared by users and cannot be changed. */
export function baseSystemFields(): FieldDefinition[] {
  return [
    { id: 'sys_id', name: 'id', type: 'text', system: true, required: true, min: 1, max: 36 },
    { id: 'sys_created', name: 'created', type: 'autodate', system: true, onCreate: true, onUpdate: false },
    { id: 'sys_updated', name: 'updated', type: 'autodate', system: true, onCreate: true, onUpdate: true },
  ]
}

/** What an auth collection adds: sign-in identity, password and the token key. */
export function authSystemFields(): FieldDefinition[] {
  return [
    { id: 'sys_email', name: 'email', type: 'email', system: true, required: true },
    { id: 'sys_email_visibility', name: 'emailVisibility', type: 'bool', system: true },
    { id: 'sys_verified', name: 'verified', type: 'bool', system: true },
    // How long and how varied a password must be is the collection's options.passwordPolicy.
    { id: 'sys_password', name: 'password', type: 'password', system: true, required: true, hidden: true },
    { id: 'sys_token_key', name: 'tokenKey', type: 'text', system: true, hidden: true },
  ]
}

export function systemFieldsFor(type: CollectionType): FieldDefinition[] {
  // A view's rows come from its query: only `id` is required of them.
  if (type === 'view') return baseSystemFields().slice(0, 1)
  return type === 'auth' ? [...baseSystemFields(), ...authSystemFields()] : baseSystemFields()
}

/** Fields a request body may never set, whoever sends it. */
export const alwaysReadOnlyFields = new Set(['id', 'created', 'updated', 'tokenKey'])
