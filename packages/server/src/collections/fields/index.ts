import type { FieldType } from '../types.js'
import { emailField, urlField } from './address.js'
import { boolField } from './bool.js'
import { autodateField, dateField } from './date.js'
import type { FieldKind } from './field-kind.js'
import { fileField } from './file.js'
import { jsonField } from './json.js'
import { numberField } from './number.js'
import { relationField } from './relation.js'
import { selectField } from './select.js'
import { editorField, passwordField, textField } from './text.js'

/** Every field type, in one explicit list. */
const kinds: FieldKind[] = [
  textField,
  editorField,
  passwordField,
  numberField,
  boolField,
  emailField,
  urlField,
  dateField,
  autodateField,
  selectField,
  jsonField,
  relationField,
  fileField,
]

const byType = new Map<FieldType, FieldKind>(kinds.map((kind) => [kind.type, kind]))

export function fieldKind(type: FieldType): FieldKind {
  const kind = byType.get(type)
  if (!kind) throw new Error(`Unknown field type ${type}`)
  return kind
}

export { type DefinitionContext, type FieldKind, FieldValueError } from './field-kind.js'
export {
  DEFAULT_MAX_FILE_SIZE,
  type FileValue,
  fileNames,
  isMultipleFiles,
  THUMB_SIZE,
  UploadedFile,
} from './file.js'
export { isRecordId } from './relation.js'
export { storageKind } from './storage.js'
