import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { v7 as uuidv7 } from 'uuid'
import { upsertSuperuser } from '../dist/auth/index.js'
import { loadConfig } from '../dist/config/index.js'
import { createCore } from '../dist/core/index.js'
import { randomToken } from '../dist/crypto/index.js'
import { superuser } from '../dist/identity/index.js'

export const SUPERUSER = { email: 'bench@example.com', password: 'bench-password-1234' }
export const MEMBER = { email: 'member-1@example.com', password: 'member-password-1234' }
export const CREATE_TITLE_PREFIX = 'bench-create'

// Open rules let the same rows be read with and without a bearer token; a superuser
// skips rules either way, so the token rows measure the cost of resolving the caller.
const postsDefinition = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text', required: true, max: 200 },
    { name: 'author', type: 'relation', collection: 'authors', maxSelect: 1, onDelete: 'cascade' },
    { name: 'views', type: 'number', min: 0, onlyInt: true },
  ],
  indexes: [{ fields: ['author', 'created'] }],
  listRule: '',
  viewRule: '',
  createRule: '',
}

// The same shape as posts, but only its owner may list or read a note: the rule is
// compiled into the SQL of every read, next to the filter the request brings.
const notesDefinition = {
  name: 'notes',
  fields: [
    { name: 'title', type: 'text', required: true, max: 200 },
    { name: 'owner', type: 'relation', collection: 'members', maxSelect: 1, onDelete: 'cascade' },
    { name: 'views', type: 'number', min: 0, onlyInt: true },
  ],
  indexes: [{ fields: ['owner', 'created'] }],
  listRule: 'owner = @request.auth.id',
  viewRule: 'owner = @request.auth.id',
  createRule: null,
}

const ROWS_PER_STATEMENT = 1000
const ROWS_PER_TRANSACTION = 20_000

/** A fixed sequence, so two runs seed the same spread of authors and views. */
function sequence(seed) {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

function shuffle(list, random) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[list[i], list[j]] = [list[j], list[i]]
  }
  return list
}

async function insertChunked(db, table, rows) {
  for (let start = 0; start < rows.length; start += ROWS_PER_TRANSACTION) {
    const slice = rows.slice(start, start + ROWS_PER_TRANSACTION)
    await db.transaction().execute(async (trx) => {
      for (let at = 0; at < slice.length; at += ROWS_PER_STATEMENT)
        await trx
          .insertInto(table)
          .values(slice.slice(at, at + ROWS_PER_STATEMENT))
          .execute()
    })
  }
}

const START = Date.parse('2025-01-01T00:00:00.000Z')
const version = () => randomBytes(9).toString('base64url')

/** Rows shaped like posts and notes: a title, a single relation spread at random, views. */
function relatedRows({ count, label, relation, parentIds, random }) {
  // A row every ~5 minutes across the year, so sorting by created is a real ordering.
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(START + 86_400_000 + i * 301_000).toISOString()
    return {
      id: uuidv7(),
      _version: version(),
      created: at,
      updated: at,
      title: `${label} ${i + 1}`,
      [relation]: parentIds[Math.floor(random() * parentIds.length)],
      views: Math.floor(random() * 10_000),
    }
  })
}

/**
 * One member goes through the records service, which validates it and hashes its
 * password with argon2id; the others are copies of its stored row with their own id,
 * email and token key. They share the password hash, which spares 99 slow hashes and
 * changes nothing for the bench, which signs in as the first one only.
 */
async function seedMembers(plinth, count) {
  const { record } = await plinth.records.create(superuser, 'members', {
    email: MEMBER.email,
    password: MEMBER.password,
    passwordConfirm: MEMBER.password,
    verified: true,
  })
  const stored = await plinth.dialect.db
    .selectFrom('members')
    .selectAll()
    .where('id', '=', record.id)
    .executeTakeFirstOrThrow()
  const copies = Array.from({ length: count - 1 }, (_, i) => {
    const at = new Date(START + (i + 1) * 1000).toISOString()
    return {
      ...stored,
      id: uuidv7(),
      _version: version(),
      created: at,
      updated: at,
      email: `member-${i + 2}@example.com`,
      tokenKey: randomToken(),
    }
  })
  await insertChunked(plinth.dialect.db, 'members', copies)
  return [record.id, ...copies.map((row) => row.id)]
}

/**
 * Creates the collections through Plinth's own service layer (so tables, indexes and
 * definitions are exactly what the API would make), then bulk-inserts rows with Kysely:
 * going through the records API would spend minutes on 100,000 single-row transactions.
 * Notes get as many rows as posts, spread over as many members as there are authors.
 * Into SQLite in `dataDir`, or into PostgreSQL at `databaseUrl`.
 */
export async function seed({ dataDir, posts, authors, sync, databaseUrl = null }) {
  const config = loadConfig({}, { dataDir, databaseUrl, logLevel: 'silent', sqliteSync: sync })
  const plinth = await createCore(config)
  const random = sequence(42)
  try {
    await plinth.collections.create({ name: 'authors', fields: [{ name: 'name', type: 'text' }] })
    await plinth.collections.create(postsDefinition)
    await plinth.collections.create({ name: 'members', type: 'auth', fields: [] })
    await plinth.collections.create(notesDefinition)
    await upsertSuperuser(plinth.records, SUPERUSER.email, SUPERUSER.password)

    const authorRows = Array.from({ length: authors }, (_, i) => {
      const at = new Date(START + i * 1000).toISOString()
      return { id: uuidv7(), _version: version(), created: at, updated: at, name: `Author ${i + 1}` }
    })
    const authorIds = authorRows.map((row) => row.id)
    const postRows = relatedRows({
      count: posts,
      label: 'Post',
      relation: 'author',
      parentIds: authorIds,
      random,
    })
    const postIds = shuffle(
      postRows.map((row) => row.id),
      random,
    )
    await insertChunked(plinth.dialect.db, 'authors', authorRows)
    await insertChunked(plinth.dialect.db, 'posts', postRows)

    const memberIds = await seedMembers(plinth, authors)
    const noteRows = relatedRows({
      count: posts,
      label: 'Note',
      relation: 'owner',
      parentIds: memberIds,
      random,
    })
    await insertChunked(plinth.dialect.db, 'notes', noteRows)
    const [memberId] = memberIds
    return {
      postIds,
      authorIds,
      memberId,
      memberNoteIds: shuffle(
        noteRows.filter((row) => row.owner === memberId).map((row) => row.id),
        random,
      ),
    }
  } finally {
    await plinth.close()
  }
}

export const databaseFile = (dataDir) => join(dataDir, 'data.db')

/** SQLite's own version, and the page count the seeded database ended with. */
export function describeDatabase(file) {
  const database = new Database(file, { readonly: true })
  try {
    return {
      engine: `SQLite ${database.prepare('select sqlite_version()').pluck().get()}`,
      sizeMb: Math.round(
        (database.pragma('page_count', { simple: true }) * database.pragma('page_size', { simple: true })) /
          2 ** 20,
      ),
      posts: database.prepare('select count(*) from posts').pluck().get(),
      notes: database.prepare('select count(*) from notes').pluck().get(),
    }
  } finally {
    database.close()
  }
}

/**
 * Removes the posts earlier create runs added and checkpoints the WAL, so every create
 * run, Plinth's or the floor's, starts from the same table and an empty log.
 */
export function removeCreatedPosts(file) {
  const database = new Database(file)
  try {
    database.pragma('busy_timeout = 5000')
    const removed = database.prepare('delete from posts where title like ?').run(`${CREATE_TITLE_PREFIX} %`)
    database.pragma('wal_checkpoint(TRUNCATE)')
    return removed.changes
  } finally {
    database.close()
  }
}

/** As describeDatabase, for the schema `url` names: the server's version and the tables' size. */
export async function describePostgres(url) {
  return withPostgres(url, async (client) => {
    const { rows } = await client.query(`select current_setting('server_version') as version,
      (select count(*) from posts)::int as posts, (select count(*) from notes)::int as notes,
      (select sum(pg_total_relation_size(c.oid)) from pg_class c
        where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r')::bigint as bytes`)
    const [{ version, posts, notes, bytes }] = rows
    return { engine: `PostgreSQL ${version}`, sizeMb: Math.round(Number(bytes) / 2 ** 20), posts, notes }
  })
}

/** As removeCreatedPosts, on PostgreSQL; a vacuum clears the removed rows away as the checkpoint does. */
export async function removeCreatedPostgresPosts(url) {
  return withPostgres(url, async (client) => {
    const removed = await client.query('delete from posts where title like $1', [`${CREATE_TITLE_PREFIX} %`])
    await client.query('vacuum posts')
    return removed.rowCount
  })
}

async function withPostgres(url, work) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}
