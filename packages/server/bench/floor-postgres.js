// The floor of the PostgreSQL runs: floor.js's answers (floor-answers.js) from the same
// PostgreSQL schema Plinth serves, through `pg` with a pool as large as Plinth's and one
// named prepared statement per query. With --minimal, the row as `pg` gives it.
//
//   node floor-postgres.js --url <postgres url> --port <port> --pool <size> [--minimal]
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
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
    url: { type: 'string' },
    port: { type: 'string', default: '0' },
    pool: { type: 'string', default: '10' },
    minimal: { type: 'boolean', default: false },
  },
})

const TIMESTAMPTZ = 1184
const FOREIGN_KEY_VIOLATION = '23503'

// Timestamps as Plinth answers them (ISO text); the minimal floor keeps pg's own Dates.
const types = {
  getTypeParser(oid, format) {
    if (oid === TIMESTAMPTZ && !args.minimal) return (value) => new Date(value).toISOString()
    return pg.types.getTypeParser(oid, format)
  },
}
const pool = new pg.Pool({ connectionString: args.url, max: Number(args.pool), types })
pool.on('error', () => {})

const app = Fastify({ logger: false })

app.get('/api/health', async () => ({ status: 'ok' }))

const one = async (name, text, values) => (await pool.query({ name, text, values })).rows[0]

/** As floor.js: read by id, the list filtered by the one relation, and create when asked. */
async function serveCollection({ name, relation, create }) {
  const columns = recordColumns(relation)
  const byId = `select ${columns} from ${name} where id = $1`
  const byRelation = `select ${columns} from ${name} where ${relation} = $1 order by created desc, id limit $2 offset $3`
  const countByRelation = `select count(*) as n from ${name} where ${relation} = $1`
  const filterPattern = relationFilter(relation)
  const base = `/api/collections/${name}/records`

  const { id: collectionId } = await one(null, 'select id from _collections where name = $1', [name])
  const toRecord = recordShape({ minimal: args.minimal, relation, name, collectionId })
  const withHeaders = (reply, headers) => (args.minimal ? reply : reply.headers(headers))

  app.get(`${base}/:id`, async function viewRecord(request, reply) {
    const row = await one(`${name}-by-id`, byId, [request.params.id])
    if (!row) return reply.code(404).type('application/problem+json').send(NOT_FOUND)
    return withHeaders(reply, { etag: `"${row._version}"` }).send(toRecord(row))
  })

  app.get(base, async function listRecords(request, reply) {
    const list = listRequest(request.query, filterPattern)
    if (!list) return reply.code(400).send({ status: 400, detail: `the floor only filters by ${relation}` })
    const [page, count] = await Promise.all([
      pool.query({
        name: `${name}-by-relation`,
        text: byRelation,
        values: [list.parent, list.perPage, list.offset],
      }),
      one(`${name}-count`, countByRelation, [list.parent]),
    ])
    return listEnvelope(list, page.rows.map(toRecord), Number(count.n))
  })

  if (!create) return
  const insert = `insert into ${name} (${columns}) values ($1, $2, $3, $4, $5, $6, $7) returning ${columns}`
  app.post(base, { schema: { body: createBody(relation) } }, async function createRecord(request, reply) {
    const { title, [relation]: parent = null, views = 0 } = request.body
    const now = new Date().toISOString()
    let row
    try {
      row = await one(`${name}-insert`, insert, [
        uuidv7(),
        randomBytes(9).toString('base64url'),
        now,
        now,
        title,
        parent,
        views,
      ])
    } catch (error) {
      if (error.code === FOREIGN_KEY_VIOLATION) return reply.code(400).send({ status: 400 })
      throw error
    }
    return withHeaders(reply.code(201), { location: `${base}/${row.id}`, etag: `"${row._version}"` }).send(
      toRecord(row),
    )
  })
}

await serveCollection({ name: 'posts', relation: 'author', create: true })
await serveCollection({ name: 'notes', relation: 'owner', create: false })

await app.listen({ host: '127.0.0.1', port: Number(args.port) })

for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, async () => {
    await app.close()
    await pool.end()
    process.exit(0)
  })
