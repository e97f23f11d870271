import type { CollectionOptions } from './collection-options.js'

export const fieldTypes = [
  'text',
  'number',
  'bool',
  'email',
  'url',
  'date',
  'select',
  'json',
  'relation',
  'editor',
  'password',
  'autodate',
] as const

export type FieldType = (typeof fieldTypes)[number]

export type OnDelete = 'cascade' | 'set-null' | 'restrict'

/** One field of a collection, as the API and the schema file spell it. */
export interface FieldDefinition {
  /** Stable across renames; generated when missing. */
  id: string
  name: string
  type: FieldType
  required?: boolean
  hidden?: boolean
  /** Built-in fields (id, created, updated, and the auth fields) cannot be changed or removed. */
  system?: boolean
  /** text, editor: length bounds; number: value bounds; date: ISO bounds. */
  min?: number | string
  max?: number | string
  pattern?: string
  onlyInt?: boolean
  /** select: allowed values. */
  values?: string[]
  /** select and relation: 1 (default) stores one value, more stores an array. */
  maxSelect?: number
  /** relation: target collection name. */
  collection?: string
  onDelete?: OnDelete
  /** autodate: set on create and/or update. */
  onCreate?: boolean
  onUpdate?: boolean
  /** email/url: restrict to (or exclude) these domains. */
  onlyDomains?: string[]
  exceptDomains?: string[]
}

export interface IndexDefinition {
  id: string
  name?: string
  fields: string[]
  unique?: boolean
}

export type CollectionType = 'base' | 'auth' | 'view'

export const ruleNames = ['listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule'] as const
export type RuleName = (typeof ruleNames)[number]

export interface CollectionDefinition {
  id: string
  name: string
  type: CollectionType
  system: boolean
  /** Every field including the system ones, in order. */
  fields: FieldDefinition[]
  indexes: IndexDefinition[]
  listRule: string | null
  viewRule: string | null
  createRule: string | null
  updateRule: string | null
  deleteRule: string | null
  /** View collections only: the SELECT whose rows are the view's records (a SQL view of the same name). */
  viewQuery?: string
  /** Only auth collections have options; see CollectionOptions. */
  options: CollectionOptions
  created: string
  updated: string
}

/** View collections are read-only: their records are the rows of a SELECT over other collections. */
export function isView(collection: Pick<CollectionDefinition, 'type'>): boolean {
  return collection.type === 'view'
}

/** A field that stores one value in a column of the collection's own table. */
export function hasColumn(field: FieldDefinition): boolean {
  return !isMultiRelation(field)
}

export function isMultiRelation(field: FieldDefinition): boolean {
  return field.type === 'relation' && (field.maxSelect ?? 1) > 1
}

/** Multi selects and multi relations hold arrays. */
export function isMultiValued(field: FieldDefinition): boolean {
  return (field.type === 'select' || field.type === 'relation') && (field.maxSelect ?? 1) > 1
}

/** The junction table of a multi relation is named after the field's stable id, so renames keep it. */
export function junctionTableName(field: FieldDefinition): string {
  return `_rel_${field.id}`
}
