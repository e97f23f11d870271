// The floor: the least a hand-written server needs to answer the benchmark's requests
// with the same JSON as Plinth. Plinth's ratio against it is the cost of everything
// Plinth adds (rules, filter compiler, validation, Kysely, hooks), so it must not
// cheat: same database file, same pragmas, one statement per query, no caches.
//
// With --minimal it is the smallest server a team would write by hand instead: the same
// statements, but the row as the database gives it, Fastify's defaults and no headers of
// its own (no ETag, no Location). The ratio against it prices what Plinth's answer carries.
//
//   node floor.js --db <data.db> --port <port> --sync full|normal [--minimal]
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import { v7 as uuidv7 } from 'uuid'
import { applySqlitePragmas } from '../dist/db/dialects/sqlite/sqlite-pragmas.js'
import {
  createBody,
  listEnvelope,
  listRequest,
  NOT_FOUND,
  recordColumns,
  recordShape,
  relationFilter,
} from './floor-answers.js'

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    port: { type: 'string', default: '0' },
    sync: { type: 'string', default: 'full' },
    minimal: { type: 'boolean', default: false },
  },
})

const database = new Database(args.db)
applySqlitePragmas(database, args.sync)

const app = Fastify({ logger: false })

app.get('/api/health', async () => ({ status: 'ok' }))

/**
 * Read by id, the list filtered by the one relation, and create (when asked) for a
 * collection shaped like posts: a title, a single relation, views. Notes have an owner
 * rule in Plinth; here they have none, so their ratio prices the rule with the rest.
 */
function serveCollection({ name, relation, create }) {
  const columns = recordColumns(relation)
  const byId = database.prepare(`select ${columns} from ${name} where id = ?`)
  const byRelation = database.prepare(
    `select ${columns} from ${name} where ${relation} = ? order by created desc, id limit ? offset ?`,
  )
  const countByRelation = database.prepare(`select count(*) as n from ${name} where ${relation} = ?`).pluck()
  const filterPattern = relationFilter(relation)
  const base = `/api/collections/${name}/records`

  const collectionId = database.prepare('select id from _collections where name = ?').pluck().get(name)
  const toRecord = recordShape({ minimal: args.minimal, relation, name, collectionId })
  const withHeaders = (reply, headers) => (args.minimal ? reply : reply.headers(headers))

  app.get(`${base}/:id`, async function viewRecord(request, reply) {
    const row = byId.get(request.params.id)
    if (!row) return reply.code(404).type('application/problem+json').send(NOT_FOUND)
    return withHeaders(reply, { etag: `"${row._version}"` }).send(toRecord(row))
  })

  app.get(base, async function listRecords(request, reply) {
    const list = listRequest(request.query, filterPattern)
    if (!list) return reply.code(400).send({ status: 400, detail: `the floor only filters by ${relation}` })
    const items = byRelation.all(list.parent, list.perPage, list.offset).map(toRecord)
    return listEnvelope(list, items, countByRelation.get(list.parent))
  })

  if (!create) return
  const insert = database.prepare(
    `insert into ${name} (${columns}) values (?, ?, ?, ?, ?, ?, ?) returning ${columns}`,
  )
  app.post(base, { schema: { body: createBody(relation) } }, async function createRecord(request, reply) {
    const { title, [relation]: parent = null, views = 0 } = request.body
    const now = new Date().toISOString()
    let row
    try {
      row = insert.get(uuidv7(), randomBytes(9).toString('base64url'), now, now, title, parent, views)
    } catch (error) {
      if (error.code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return reply.code(400).send({ status: 400 })
      throw error
    }
    return withHeaders(reply.code(201), { location: `${base}/${row.id}`, etag: `"${row._version}"` }).send(
      toRecord(row),
    )
  })
}

serveCollection({ name: 'posts', relation: 'author', create: true })
serveCollection({ name: 'notes', relation: 'owner', create: false })

await app.listen({ host: '127.0.0.1', port: Number(args.port) })

for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, async () => {
    await app.close()
    database.close()
    process.exit(0)
  })
