import type { CollectionOptions } from './collection-options.js'
import type { SearchOptions } from './search-options.js'

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
  'file',
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
  /** select, relation and file: 1 (default) stores one value, more stores an array. */
  maxSelect?: number
  /** relation: target collection name. */
  collection?: string
  onDelete?: OnDelete
  /** autodate: set on create and/or update. */
  onCreate?: boolean
  onUpdate?: boolean
  /** file: largest size of one file in bytes (5 MiB when not set). */
  maxSize?: number
  /** file: media types allowed, checked against the content (`image/*` allows every image). */
  mimeTypes?: string[]
  /** file: thumbnail sizes that may be asked for, besides the default 100x100. */
  thumbs?: string[]
  /** file: served only with a file token of a caller whose view rule allows the record. */
  protected?: boolean
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
  /** Base and auth collections only: the full-text index behind `search=`; absent when off. */
  search?: SearchOptions
  created: string
  updated: string
}

/** A collection of this type with no fields, indexes or options, and every rule null (superusers only). */
export function emptyDefinition(type: CollectionType): CollectionDefinition {
  return {
    id: '',
    name: '',
    type,
    system: false,
    fields: [],
    indexes: [],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: {},
    created: '',
    updated: '',
  }
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

/** Multi selects, multi relations and multiple file fields hold arrays. */
export function isMultiValued(field: FieldDefinition): boolean {
  return (
    (field.type === 'select' || field.type === 'relation' || field.type === 'file') &&
    (field.maxSelect ?? 1) > 1
  )
}

/** The junction table of a multi relation is named after the field's stable id, so renames keep it. */
export function junctionTableName(field: FieldDefinition): string {
  return `_rel_${field.id}`
}
