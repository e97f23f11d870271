import type { CollectionDefinition } from '../collections/index.js'

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it) or any other object of the document. */
export type JsonSchema = Record<string, unknown>

/** What the parts of the document need to know about the whole while they are built. */
export interface DocumentContext {
  viewer: { isSuperuser: boolean }
  /** The unique identifier part of a collection's component names and operation ids. */
  baseOf(collection: string): string
  /** Whether the collection is described to this viewer (a reference to a hidden one would dangle). */
  isVisible(collection: string): boolean
  /** Looks a described collection up by name. */
  described(collection: string): CollectionDefinition | undefined
  /** Every collection described to this viewer. */
  allDescribed: readonly CollectionDefinition[]
}

type SchemaSuffix = 'Record' | 'Create' | 'Update' | 'List'

export const schemaSuffixes: readonly SchemaSuffix[] = ['Record', 'Create', 'Update', 'List']

/** The first part of a per-collection operation id, whose second part is the collection's base. */
export const operationVerbs = [
  'list',
  'create',
  'view',
  'update',
  'delete',
  'authWithPassword',
  'authRefresh',
  'authLogout',
  'authMethods',
  'impersonate',
  'listRecordSessions',
  'revokeRecordSessions',
  'revokeRecordSession',
  'requestVerification',
  'confirmVerification',
  'requestPasswordReset',
  'confirmPasswordReset',
  'requestEmailChange',
  'confirmEmailChange',
  'requestOtp',
  'authWithOtp',
  'requestOAuth2',
  'authWithOAuth2',
  'viewOAuth2Providers',
  'updateOAuth2Providers',
  'listExternalAuths',
  'unlinkExternalAuth',
  'viewMfa',
  'setupTotp',
  'confirmTotp',
  'disableTotp',
  'replaceRecoveryCodes',
  'authWithMfa',
  'listPasskeys',
  'removePasskey',
  'passkeyRegistrationOptions',
  'registerPasskey',
  'passkeyAuthenticationOptions',
  'authWithPasskey',
] as const

export type OperationVerb = (typeof operationVerbs)[number]

export function schemaName(base: string, suffix: SchemaSuffix): string {
  return `${base}${suffix}`
}

export function operationId(verb: OperationVerb, base: string): string {
  return `${verb}${base}`
}

export function ref(component: string, kind = 'schemas'): JsonSchema {
  return { $ref: `#/components/${kind}/${component}` }
}
