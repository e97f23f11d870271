import type { StorageKind } from '../../db/index.js'
import type { FieldDefinition } from '../types.js'

/** How a field's values are kept in its column. */
export function storageKind(field: FieldDefinition): StorageKind {
  switch (field.type) {
    case 'number':
      return 'number'
    case 'bool':
      return 'boolean'
    case 'date':
    case 'autodate':
      return 'timestamp'
    case 'json':
      return 'json'
    case 'select':
    case 'file':
      return (field.maxSelect ?? 1) > 1 ? 'json' : 'text'
    default:
      return 'text'
  }
}
