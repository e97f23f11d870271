import { SUPERUSERS } from '../auth/index.js'
import type { CollectionDefinition } from '../collections/index.js'
import { plinthVersion } from '../config/index.js'
import { ACCOUNT_TAGS, accountOperationIds, accountPaths } from './account-paths.js'
import { authPaths } from './auth-paths.js'
import { authRequestSchemas } from './auth-request-schemas.js'
import { authResponseSchemas } from './auth-response-schemas.js'
import { authTag } from './auth-scope.js'
import { BACKUPS_TAG, backupOperationIds, backupPaths, backupSchemas } from './backup-paths.js'
import {
  collectionImportOperationIds,
  collectionImportPaths,
  collectionMigrationSchemas,
} from './collection-paths.js'
import { allocateBases } from './component-names.js'
import { type DocumentContext, type JsonSchema, ref, schemaName } from './document-context.js'
import { FILES_TAG, fileOperationIds, filePaths } from './file-paths.js'
import { fixedOperationIds, fixedPaths, fixedSchemas, TAGS } from './fixed-paths.js'
import { JOBS_TAG, jobOperationIds, jobPaths, jobSchemas } from './job-paths.js'
import { LOGS_TAG, logOperationIds, logPaths, logSchemas } from './log-paths.js'
import { METRICS_TAG, metricsOperationIds, metricsPaths } from './metrics-paths.js'
import { REALTIME_TAG, realtimeOperationIds, realtimePaths, realtimeSchemas } from './realtime-paths.js'
import { recordPaths } from './record-paths.js'
import { createSchema, listSchema, recordSchema, updateSchema } from './record-schemas.js'
import { BEARER } from './security-schemes.js'
import { SETTINGS_TAG, settingsOperationIds, settingsPaths, settingsSchemas } from './settings-paths.js'
import { sharedComponents, sharedSchemas } from './shared-components.js'
import { WEBHOOKS_TAG, webhookOperationIds, webhookPaths, webhookSchemas } from './webhook-paths.js'

const fixedComponents = {
  ...sharedSchemas,
  ...fixedSchemas,
  ...collectionMigrationSchemas,
  ...authRequestSchemas,
  ...authResponseSchemas,
  ...jobSchemas,
  ...backupSchemas,
  ...settingsSchemas,
  ...logSchemas,
  ...webhookSchemas,
  ...realtimeSchemas,
}

const reservedNames = new Set([
  ...Object.keys(fixedComponents),
  ...fixedOperationIds,
  ...collectionImportOperationIds,
  ...accountOperationIds,
  ...jobOperationIds,
  ...backupOperationIds,
  ...settingsOperationIds,
  ...metricsOperationIds,
  ...logOperationIds,
  ...webhookOperationIds,
  ...realtimeOperationIds,
  ...fileOperationIds,
])

export interface Viewer {
  isSuperuser: boolean
}

/**
 * Whether the document describes a collection to this viewer. The document is
 * public: it shows the shape of the API (collection and field names), and rules
 * that open records to everyone make that shape useful to anonymous clients. A
 * collection whose list, view and create rules are all null is reachable by
 * superusers only, so to anyone else it stays out of the document, and its name
 * and fields are not given away. Hidden fields never appear in records, and are
 * offered in request bodies to superusers only.
 */
function isDescribedTo(collection: CollectionDefinition, viewer: Viewer): boolean {
  if (viewer.isSuperuser) return true
  return collection.listRule !== null || collection.viewRule !== null || collection.createRule !== null
}

function authTagOf(collection: string): JsonSchema {
  return {
    name: authTag(collection),
    description: `Sign-in, sessions, email flows, OAuth2 and second factors of ${collection}.`,
  }
}

function byReadingOrder(a: CollectionDefinition, b: CollectionDefinition): number {
  return Number(a.system) - Number(b.system) || a.name.localeCompare(b.name)
}

/** The OpenAPI 3.1 document of the API as it is now, as this viewer may see it. */
export function buildDocument(collections: CollectionDefinition[], viewer: Viewer): JsonSchema {
  const bases = allocateBases(collections, reservedNames)
  const described = collections.filter((c) => isDescribedTo(c, viewer)).sort(byReadingOrder)
  const describedNames = new Set(described.map((c) => c.name))
  const context: DocumentContext = {
    viewer,
    baseOf: (name) => bases.get(name) ?? name,
    isVisible: (name) => describedNames.has(name),
    described: (name) => (describedNames.has(name) ? described.find((c) => c.name === name) : undefined),
    allDescribed: described,
  }

  const schemas: Record<string, JsonSchema> = { ...fixedComponents }
  const paths: Record<string, JsonSchema> = {
    ...fixedPaths(),
    ...collectionImportPaths(TAGS.collections),
    ...accountPaths(),
    ...jobPaths(),
    ...backupPaths(),
    ...settingsPaths(),
    ...metricsPaths(),
    ...logPaths(),
    ...webhookPaths(),
    ...realtimePaths(),
    ...filePaths(),
  }
  const tags: JsonSchema[] = [
    { name: TAGS.health, description: 'Liveness and readiness for load balancers.' },
    { name: TAGS.collections, description: 'The data model; superusers only. Each change is a migration.' },
    { name: TAGS.batch, description: 'Several record writes in one transaction.' },
    { name: TAGS.setup, description: 'The first superuser of a new instance.' },
    { name: ACCOUNT_TAGS.sessions, description: 'The signed-in caller’s sessions and API keys.' },
    { name: ACCOUNT_TAGS.audit, description: 'Security events; superusers only.' },
    { name: ACCOUNT_TAGS.keys, description: 'The public keys of access tokens, for other services.' },
    { name: JOBS_TAG, description: 'The durable job queue and its cron schedules; superusers only.' },
    { name: SETTINGS_TAG, description: 'The configuration in effect, and a test mail; superusers only.' },
    {
      name: BACKUPS_TAG,
      description: 'Archives of the whole instance: make, download, upload, restore; superusers only.',
    },
    { name: METRICS_TAG, description: 'Prometheus metrics of each node; superusers or the metrics token.' },
    { name: LOGS_TAG, description: 'Requests kept in the database; superusers only.' },
    { name: WEBHOOKS_TAG, description: 'Signed deliveries of record changes to your URLs; superusers only.' },
    { name: REALTIME_TAG, description: 'Record events as they happen, filtered by the rules.' },
    {
      name: FILES_TAG,
      description: 'Files of file fields: downloads, thumbnails and tokens for protected files.',
    },
  ]
  for (const collection of described) {
    const base = context.baseOf(collection.name)
    schemas[schemaName(base, 'Record')] = recordSchema(collection, context)
    schemas[schemaName(base, 'List')] = listSchema(collection, context)
    if (collection.type !== 'view') {
      schemas[schemaName(base, 'Create')] = createSchema(collection, context)
      schemas[schemaName(base, 'Update')] = updateSchema(collection, context)
    }
    Object.assign(paths, recordPaths(collection, context))
    tags.push({ name: collection.name, description: `Records of the ${collection.type} collection.` })
    if (collection.type === 'auth') {
      const record = ref(schemaName(base, 'Record'))
      Object.assign(paths, authPaths(collection, base, record))
      tags.push(authTagOf(collection.name))
    }
  }
  // Superusers sign in whoever reads the document; only their records stay superuser-only.
  const superusers = collections.find((c) => c.name === SUPERUSERS)
  if (superusers && !describedNames.has(SUPERUSERS)) {
    Object.assign(paths, authPaths(superusers, context.baseOf(SUPERUSERS), ref('AuthRecord')))
    tags.push(authTagOf(SUPERUSERS))
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'Plinth',
      version: plinthVersion(),
      description:
        'The REST API of this Plinth instance, generated from its collections as they are now. Errors are RFC 9457 problem+json.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags,
    security: [{}, { [BEARER]: [] }],
    paths,
    components: { schemas, ...sharedComponents },
  }
}
