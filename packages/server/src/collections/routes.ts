import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { requireSuperuser } from '../identity/index.js'
import { describeChange } from './plan-messages.js'
import { isObject, readSchemaFile, SCHEMA_FILE_VERSION } from './schema-file.js'
import type { CollectionChange } from './schema-plan.js'
import type { CollectionMigration, CollectionService } from './service.js'

type NameParams = { name: string }

// Query strings are not coerced: a flag arrives as text. Other parameters are left alone, as before.
const dryRunQuery = Type.Object({
  dryRun: Type.Optional(Type.Union(['1', 'true', '0', 'false'].map((value) => Type.Literal(value)))),
})
type DryRunQuery = Static<typeof dryRunQuery>

const importBody = Type.Object(
  {
    collections: Type.Array(Type.Unknown(), { maxItems: 1000 }),
    deleteMissing: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
)

const isDryRun = (query: DryRunQuery) => query.dryRun === '1' || query.dryRun === 'true'

/** The answer of a dry run or an import: each collection's change in words, and the statements in order. */
function migrationAnswer(migration: CollectionMigration, changes: CollectionChange[], dryRun: boolean) {
  const after = new Map<string, unknown>()
  for (const change of migration.changes) if (change.after) after.set(change.after.id, change.after)
  return { dryRun, changes, collections: [...after.values()], statements: migration.up }
}

const describedChanges = (migration: CollectionMigration) =>
  migration.changes.map((change) => describeChange(change.before, change.after))

/**
 * Collections API: superusers only. Every change is a migration (see CollectionService);
 * `?dryRun=1` on a create, an update or an import checks it the same way and answers the
 * migration it would run, changing nothing.
 */
export async function collectionsRoutes(
  app: FastifyInstance,
  options: { collections: CollectionService },
): Promise<void> {
  const { collections } = options
  // Before validation, so that only a superuser learns which inputs are valid.
  app.addHook('preValidation', async function superusersOnly(request) {
    requireSuperuser(request.caller, 'manage collections')
  })

  app.get('/api/collections', async function listCollections() {
    const items = collections.list()
    return { items, page: 1, perPage: items.length, totalItems: items.length, totalPages: 1 }
  })

  app.post<{ Querystring: DryRunQuery }>(
    '/api/collections',
    { schema: { querystring: dryRunQuery } },
    async function createCollection(request, reply) {
      if (isDryRun(request.query)) {
        const migration = await collections.previewCreate(request.body)
        return migrationAnswer(migration, describedChanges(migration), true)
      }
      const created = await collections.create(request.body)
      return reply.code(201).header('location', `/api/collections/${created.name}`).send(created)
    },
  )

  // PocketBase's shape: the whole set of collections in one body, applied together.
  app.put<{ Querystring: DryRunQuery; Body: Static<typeof importBody> }>(
    '/api/collections/import',
    { schema: { querystring: dryRunQuery, body: importBody } },
    async function importCollections(request) {
      const dryRun = isDryRun(request.query)
      // The list answers system collections too; they are never imported, so a list read back is accepted.
      const entries = request.body.collections.filter((entry) => !(isObject(entry) && entry.system === true))
      const file = readSchemaFile({ plinth: SCHEMA_FILE_VERSION, collections: entries })
      const { plan, migration } = await collections.importSchema(file, {
        deleteMissing: request.body.deleteMissing,
        dryRun,
      })
      return migrationAnswer(migration, plan.changes, dryRun)
    },
  )

  app.get<{ Params: NameParams }>('/api/collections/:name', async function viewCollection(request) {
    return collections.get(request.params.name)
  })

  app.patch<{ Params: NameParams; Querystring: DryRunQuery }>(
    '/api/collections/:name',
    { schema: { querystring: dryRunQuery } },
    async function updateCollection(request) {
      if (isDryRun(request.query)) {
        const migration = await collections.previewUpdate(request.params.name, request.body)
        return migrationAnswer(migration, describedChanges(migration), true)
      }
      return collections.update(request.params.name, request.body)
    },
  )

  app.delete<{ Params: NameParams }>(
    '/api/collections/:name',
    async function deleteCollection(request, reply) {
      await collections.delete(request.params.name)
      return reply.code(204).send()
    },
  )
}
