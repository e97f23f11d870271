import { exportSchema, parseSchemaFile, type SchemaFile } from '../collections/index.js'
import { systemFieldsFor } from '../collections/system-fields.js'
import type { CollectionDefinition, FieldDefinition } from '../collections/types.js'
import { PlinthError } from '../errors/index.js'

/* Collection definitions as the registry holds them, for the schema-file and import-plan tests. */

const T0 = '2024-01-01T00:00:00.000Z'

export function collection(
  name: string,
  fields: FieldDefinition[],
  extra: Partial<CollectionDefinition> = {},
): CollectionDefinition {
  const type = extra.type ?? 'base'
  // Auth collections always carry the unique email index, as CollectionService keeps it.
  const indexes = [
    ...(type === 'auth' ? [{ id: 'sys_email_unique', fields: ['email'], unique: true }] : []),
    ...(extra.indexes ?? []),
  ]
  return {
    id: `c_${name.toLowerCase()}`,
    name,
    type,
    system: false,
    fields: [...systemFieldsFor(type), ...fields],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: {},
    created: T0,
    updated: T0,
    ...extra,
    indexes,
  }
}

export const title: FieldDefinition = { id: 'f_title', name: 'title', type: 'text', required: true, max: 200 }
export const views: FieldDefinition = { id: 'f_views', name: 'views', type: 'number', max: 10 }
export const relation = (id: string, name: string, target: string): FieldDefinition => ({
  id,
  name,
  type: 'relation',
  collection: target,
  onDelete: 'set-null',
})
export const superusers = collection('_superusers', [], { id: 'sys_superusers', type: 'auth', system: true })

/** The file that `exportSchema` writes for these definitions. */
export const fileOf = (...definitions: CollectionDefinition[]): SchemaFile =>
  parseSchemaFile(exportSchema(definitions))

export function errorOf(run: () => unknown): PlinthError {
  try {
    run()
  } catch (error) {
    if (error instanceof PlinthError) return error
    throw error
  }
  throw new Error('expected an error')
}
