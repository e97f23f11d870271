export {
  type CollectionOptions,
  identityFieldsOf,
  type LinkKind,
  linkKinds,
  type MailKind,
  type MailTemplate,
  mailKinds,
  OTP_LENGTH,
} from './collection-options.js'
export { canonicalDate, DATE_FILTER_FORMAT } from './dates.js'
export { indexName, VERSION_COLUMN } from './ddl.js'
export { newStableId } from './definition.js'
export { restoreDefinitionTimes } from './definition-times.js'
export {
  DEFAULT_MAX_FILE_SIZE,
  FieldValueError,
  type FileValue,
  fieldKind,
  fileNames,
  isMultipleFiles,
  isRecordId,
  storageKind,
  THUMB_SIZE,
  UploadedFile,
} from './fields/index.js'
export { isReservedFieldName, isValidName } from './names.js'
export {
  emailAsPasswordProblem,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  type PasswordPolicy,
  passwordPolicyOf,
  passwordProblem,
} from './password-policy.js'
export { describePlan, explainStepError } from './plan-messages.js'
export { CollectionRegistry } from './registry.js'
export { collectionsRoutes } from './routes.js'
export { canonical, exportSchema, parseSchemaFile, type SchemaFile } from './schema-file.js'
export { planSchemaImport, type SchemaStep } from './schema-plan.js'
export { applySchemaStep } from './schema-steps.js'
export { fullTextIndexOf, MAX_SEARCH_FIELDS, type SearchOptions } from './search-options.js'
export {
  type CollectionDropListener,
  CollectionService,
  type FieldsDropListener,
  type RuleChecker,
} from './service.js'
export {
  COLLECTIONS_TABLE,
  MIGRATIONS_TABLE,
  type MigrationRecord,
  readDefinitions,
  SCHEMA_VERSION_TABLE,
} from './store.js'
export { alwaysReadOnlyFields, baseSystemFields, systemFieldsFor } from './system-fields.js'
export {
  type CollectionDefinition,
  type CollectionType,
  emptyDefinition,
  type FieldDefinition,
  type FieldType,
  fieldTypes,
  hasColumn,
  type IndexDefinition,
  isMultiRelation,
  isMultiValued,
  isView,
  junctionTableName,
  type RuleName,
  ruleNames,
} from './types.js'
