import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest'
import { loadConfig, type PlinthConfig } from '../config/index.js'
import { createCore } from '../core/index.js'
import { createApp } from '../http/index.js'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, signedInTestApp, type TestApp } from '../test-support/app.js'
import { freshPostgresUrl, postgresSkipReason, shouldSkip } from '../test-support/databases.js'

const STICKY_MS = 5000
const NO_CACHE = { ...loadConfig({}).cache, enabled: false }

function replicaSettings(urls: string[]): Partial<PlinthConfig> {
  return {
    cluster: { ...loadConfig({}).cluster, replicaUrls: urls, replicaStickyMs: STICKY_MS },
    // Off, so that each answer shows where it was read rather than what an earlier read kept.
    cache: NO_CACHE,
  }
}

/** The schema a test URL's connections use (freshPostgresUrl puts it in `options`). */
function schemaOf(url: string): string {
  const match = /search_path=(\w+)/.exec(new URL(url).searchParams.get('options') ?? '')
  if (!match) throw new Error(`no schema in ${url}`)
  return match[1]!
}

describe('read replicas on PostgreSQL', () => {
  let t: TestApp
  let admin: Kysely<any>
  let primary: string
  let primaryDb: Awaited<ReturnType<typeof freshPostgresUrl>> | undefined
  const replicas: Awaited<ReturnType<typeof freshPostgresUrl>>[] = []
  let writer = ''
  let other = ''
  let postId = ''
  let authorId = ''

  /**
   * What a streaming replica holds at one moment, made by hand: the collection tables copied
   * from the primary now, so that later writes on the primary are absent from the copy.
   */
  async function snapshot(replica: string): Promise<void> {
    for (const table of ['users', 'posts']) {
      await sql`drop table if exists ${sql.table(`${replica}.${table}`)}`.execute(admin)
      await sql`create table ${sql.table(`${replica}.${table}`)} as table ${sql.table(`${primary}.${table}`)}`.execute(
        admin,
      )
    }
  }

  const titles = async (auth: string | null) => {
    const response = await t.request({ method: 'GET', url: '/api/collections/posts/records', auth })
    expect(response.statusCode, response.body).toBe(200)
    return response.json().items.map((item: { title: string }) => item.title)
  }

  const viewed = async (auth: string | null) => {
    const url = `/api/collections/posts/records/${postId}?expand=author`
    const response = await t.request({ method: 'GET', url, auth })
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  beforeAll(async () => {
    if (shouldSkip('postgres')) return
    // The primary and its replicas are schemas of one database, so SQL can copy between them.
    primaryDb = await freshPostgresUrl()
    replicas.push(await freshPostgresUrl(), await freshPostgresUrl())
    t = await createTestApp('postgres', {
      ...replicaSettings(replicas.map((replica) => replica.url)),
      databaseUrl: primaryDb.url,
    })
    primary = schemaOf(primaryDb.url)
    admin = new Kysely<any>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: t.config.databaseUrl! }) }),
    })
    for (const payload of [
      { name: 'users', type: 'auth', createRule: '', listRule: '', viewRule: '' },
      {
        name: 'posts',
        listRule: '',
        viewRule: '',
        createRule: '@request.auth.id != ""',
        updateRule: 'author = @request.auth.id',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'author', type: 'relation', collection: 'users' },
        ],
      },
    ]) {
      const response = await t.request({ method: 'POST', url: '/api/collections', payload })
      expect(response.statusCode, response.body).toBe(201)
    }
    authorId = await signUp(t, 'writer@example.com')
    await signUp(t, 'other@example.com')
    writer = (await passwordSignIn(t, 'writer@example.com')).json().token
    other = (await passwordSignIn(t, 'other@example.com')).json().token
    const created = await t.request({
      method: 'POST',
      url: '/api/collections/posts/records',
      auth: writer,
      payload: { title: 'first', author: authorId },
    })
    expect(created.statusCode, created.body).toBe(201)
    postId = created.json().id
    // Two replicas that differ from each other as well, so the one that answered can be told.
    for (const replica of replicas) await snapshot(schemaOf(replica.url))
    await sql`update ${sql.table(`${schemaOf(replicas[1]!.url)}.posts`)} set title = ${'first on the second replica'}`.execute(
      admin,
    )
    const updated = await t.request({
      method: 'PATCH',
      url: `/api/collections/posts/records/${postId}`,
      auth: writer,
      payload: { title: 'second' },
    })
    expect(updated.statusCode, updated.body).toBe(200)
  })

  afterEach(() => {
    vi.useRealTimers()
  })

  afterAll(async () => {
    await t?.close()
    await admin?.destroy()
    for (const replica of replicas) await replica.drop()
    await primaryDb?.drop()
  })

  test('anonymous and other callers read from the replicas, in turn', async (context) => {
    if (shouldSkip('postgres')) return context.skip(postgresSkipReason())
    const seen = new Set<string>()
    for (const auth of [null, other, null, other]) seen.add((await titles(auth))[0])
    expect(seen).toEqual(new Set(['first', 'first on the second replica']))
    const view = await viewed(null)
    expect(view.title).toMatch(/^first/)
    // The expanded author is read on the same replica, where the copy has it.
    expect(view.expand.author.id).toBe(authorId)
  })

  test('the writer reads its own write from the primary within the window, and from a replica after it', async (context) => {
    if (shouldSkip('postgres')) return context.skip(postgresSkipReason())
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
    expect(await titles(writer)).toEqual(['second'])
    expect((await viewed(writer)).title).toBe('second')
    // Shared between nodes in windows of STICKY_MS, a write is remembered for at most two of them.
    vi.setSystemTime(Date.now() + 2 * STICKY_MS + 1)
    expect((await viewed(writer)).title).toMatch(/^first/)
  })

  test('writes land on the primary only', async (context) => {
    if (shouldSkip('postgres')) return context.skip(postgresSkipReason())
    const created = await t.request({
      method: 'POST',
      url: '/api/collections/posts/records',
      auth: other,
      payload: { title: 'third' },
    })
    expect(created.statusCode, created.body).toBe(201)
    const id = created.json().id
    const onPrimary = await admin
      .selectFrom(`${primary}.posts`)
      .select('title')
      .where('id', '=', id)
      .execute()
    expect(onPrimary).toEqual([{ title: 'third' }])
    for (const replica of replicas) {
      const onReplica = await admin
        .selectFrom(`${schemaOf(replica.url)}.posts`)
        .select('id')
        .execute()
      expect(onReplica.map((row) => row.id)).toEqual([postId])
    }
    // The anonymous reader still sees the replicas' copy; the caller who wrote sees its record.
    expect(await titles(null)).toHaveLength(1)
    expect(await titles(other)).toContain('third')
  })

  test('a write on one node sends the writer to the primary on another', async (context) => {
    if (shouldSkip('postgres')) return context.skip(postgresSkipReason())
    // A second node on the same primary and replicas, sharing state through the database.
    const app = await createApp(t.config)
    const nodeB = await signedInTestApp(app, t.config, () => app.close())
    try {
      const titlesOn = async (node: TestApp, auth: string | null) =>
        (await node.request({ method: 'GET', url: '/api/collections/posts/records', auth }))
          .json()
          .items.map((item: { title: string }) => item.title)
      const rewritten = await t.request({
        method: 'PATCH',
        url: `/api/collections/posts/records/${postId}`,
        auth: writer,
        payload: { title: 'second' },
      })
      expect(rewritten.statusCode, rewritten.body).toBe(200)
      expect(await titlesOn(nodeB, writer)).toContain('second')
      expect(await titlesOn(nodeB, null)).toEqual([expect.stringMatching(/^first/)])
    } finally {
      await nodeB.close()
    }
  })

  test('the health check counts the replicas', async (context) => {
    if (shouldSkip('postgres')) return context.skip(postgresSkipReason())
    const ready = await t.request({ method: 'GET', url: '/api/health/ready', auth: null })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().replicas).toEqual({ total: 2, down: 0 })
  })
})

describe('a replica that cannot be reached', () => {
  test('answers from the primary, and is counted as down', async (context) => {
    if (shouldSkip('postgres')) return context.skip(postgresSkipReason())
    // Port 1: nothing listens, so connecting fails at once.
    const t = await createTestApp('postgres', replicaSettings(['postgres://127.0.0.1:1/test']))
    try {
      const created = await t.request({
        method: 'POST',
        url: '/api/collections',
        payload: { name: 'notes', listRule: '', viewRule: '', fields: [{ name: 'text', type: 'text' }] },
      })
      expect(created.statusCode, created.body).toBe(201)
      const note = await t.request({
        method: 'POST',
        url: '/api/collections/notes/records',
        payload: { text: 'kept' },
      })
      const list = await t.request({ method: 'GET', url: '/api/collections/notes/records', auth: null })
      expect(list.statusCode, list.body).toBe(200)
      expect(list.json().items.map((item: { text: string }) => item.text)).toEqual(['kept'])
      const view = await t.request({
        method: 'GET',
        url: `/api/collections/notes/records/${note.json().id}`,
        auth: null,
      })
      expect(view.statusCode, view.body).toBe(200)
      const ready = await t.request({ method: 'GET', url: '/api/health/ready', auth: null })
      expect(ready.statusCode).toBe(200)
      expect(ready.json().replicas).toEqual({ total: 1, down: 1 })
    } finally {
      await t.close()
    }
  })
})

describe('replicas on SQLite', () => {
  test('are refused at start', async () => {
    const config = loadConfig({
      PLINTH_DATABASE_REPLICA_URLS: 'postgres://replica-1/plinth',
      PLINTH_LOG_LEVEL: 'silent',
    })
    await expect(createCore(config)).rejects.toThrow(/PLINTH_DATABASE_REPLICA_URLS.*need PostgreSQL/)
  })
})
