// The floor of the search bench: the least a hand-written server needs to answer
// `GET …/records?search=<words>&perPage=20` with the same JSON as Plinth, from the same
// database file and the same FTS5 index, one statement per query and no caches.
//
//   node search-floor.js --db <data.db> --port <port> --collection <name> --fts <fts table>
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import Fastify from 'fastify'
import { applySqlitePragmas } from '../dist/db/dialects/sqlite/sqlite-pragmas.js'

const { values: args } = parseArgs({
  options: {
    db: { type: 'string' },
    port: { type: 'string', default: '0' },
    collection: { type: 'string' },
    fts: { type: 'string' },
  },
})

const database = new Database(args.db)
applySqlitePragmas(database, 'full')

const name = args.collection
const fts = args.fts
const columns = 'a.id, a._version, a.created, a.updated, a.title, a.body'
// The same ranking as Plinth: bm25 with the title weighing 1 and the body 0.4, then the id.
const page = database.prepare(
  `select ${columns} from ${fts} join ${name} a on a._rowid_ = ${fts}.rowid
   where ${fts} match ? order by bm25(${fts}, 1, 0.4), a.id limit ? offset ?`,
)
const count = database.prepare(`select count(*) from ${fts} where ${fts} match ?`).pluck()

const collectionId = database.prepare('select id from _collections where name = ?').pluck().get(name)

const app = Fastify({ logger: false })
app.get('/api/health', async () => ({ status: 'ok' }))

app.get(`/api/collections/${name}/records`, async function searchRecords(request) {
  const { search = '', page: pageText = '1', perPage = '30' } = request.query
  // Only the plain words the bench sends, each quoted as an FTS5 string.
  const match = search
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => `"${word.replaceAll('"', '""')}"`)
    .join(' AND ')
  const pageNumber = Number(pageText)
  const size = Number(perPage)
  const items = page.all(match, size, (pageNumber - 1) * size).map((row) => ({
    id: row.id,
    created: row.created,
    updated: row.updated,
    title: row.title,
    body: row.body,
    collectionId,
    collectionName: name,
  }))
  const totalItems = count.get(match)
  return { items, page: pageNumber, perPage: size, totalItems, totalPages: Math.ceil(totalItems / size) }
})

await app.listen({ host: '127.0.0.1', port: Number(args.port) })

for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, async () => {
    await app.close()
    database.close()
    process.exit(0)
  })
