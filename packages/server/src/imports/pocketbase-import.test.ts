import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { expectOneLineFailure, runPlinth } from '../test-support/cli-run.js'
import { postgresSkipReason, shouldSkip, type TestDialect, testDialects } from '../test-support/databases.js'
import {
  COVER,
  IDS,
  PASSWORDS,
  writeOldPocketBaseData,
  writePocketBaseData,
} from '../test-support/pocketbase-data.js'
import { signIn } from '../test-support/populated-server.js'
import type { ServerProcess } from '../test-support/server-process.js'
import { TestResources } from '../test-support/test-resources.js'

type Json = Record<string, any>

// The built CLI and servers started from it: `npm run build` first when running this file alone.
describe.each(testDialects)('plinth import pocketbase on %s', { timeout: 240_000 }, (kind: TestDialect) => {
  const resources = new TestResources()
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(() => resources.release())

  /** A pb_data folder as PocketBase leaves it. */
  function pocketBase(): string {
    const dir = resources.folder('pb-data-')
    writePocketBaseData(dir)
    return dir
  }

  /** An empty Plinth to import into: its CLI arguments, and a read of one column of its database. */
  async function target() {
    const dir = join(resources.folder('plinth-import-'), 'plinth_data')
    const url = kind === 'postgres' ? await resources.postgres() : null
    const args = ['--dir', dir, ...(url ? ['--database-url', url] : [])]
    /** The rows of a query with one bound value, read beside the server. */
    async function query(text: string, value: string): Promise<Json[]> {
      if (!url) {
        const db = new Database(join(dir, 'data.db'), { readonly: true })
        try {
          return db.prepare(text.replace('$1', '?')).all(value) as Json[]
        } finally {
          db.close()
        }
      }
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        return (await client.query(text, [value])).rows
      } finally {
        await client.end()
      }
    }
    return { dir, args, query }
  }

  async function get(server: ServerProcess, path: string, token: string | null = null) {
    const response = await fetch(`${server.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    })
    return {
      status: response.status,
      body: Buffer.from(await response.arrayBuffer()),
      type: response.headers.get('content-type'),
    }
  }

  async function send(server: ServerProcess, method: string, path: string, token: string, body?: unknown) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    })
    return { status: response.status, text: await response.text() }
  }

  async function titles(server: ServerProcess, token: string | null): Promise<string[]> {
    const answer = await get(server, '/api/collections/posts/records?sort=title', token)
    expect(answer.status, answer.body.toString()).toBe(200)
    return JSON.parse(answer.body.toString()).items.map((item: Json) => item.title)
  }

  /** The collections of a Plinth, as `plinth schema export` lists them. */
  async function collectionNames(args: string[]): Promise<string[]> {
    const run = await runPlinth(['schema', 'export', ...args])
    expect(run.code, run.stderr).toBe(0)
    return JSON.parse(run.stdout).collections.map((c: Json) => c.name)
  }

  test('imports collections, rules, records, users, files and superusers, and reports what it could not translate', async () => {
    const source = pocketBase()
    const plinth = await target()
    const run = await runPlinth(['import', 'pocketbase', source, ...plinth.args])
    expect(run.code, run.stderr).toBe(0)
    const report = run.stdout
    expect(report).toMatch(/^Imported .* into /)
    expect(report).toMatch(/^ {2}posts\s+base\s+4 records, 2 files$/m)
    expect(report).toMatch(/^ {2}users\s+auth\s+2 records, 0 files$/m)
    expect(report).toMatch(/^ {2}comments\s+base\s+2 records, 0 files$/m)
    expect(report).toMatch(/^ {2}post_stats\s+view\s+\(records come from its query\)$/m)
    expect(report).toContain('Superusers: 1 imported')
    for (const line of [
      /^ {2}posts\.deleteRule: .*Plinth rules cannot read @request\.headers; imported as null \(superusers only\)$/m,
      /^ {2}comments\.viewRule: "created >= @yesterday": Plinth has no @yesterday; imported as null \(superusers only\)$/m,
      /^ {2}posts index idx_posts_lower_title: it indexes an expression .*; not created$/m,
      /^ {2}posts\.location: Plinth has no geoPoint type: it is a json field/m,
      /^ {2}users oauth2: providers google are not imported/m,
      /^ {2}posts\.editors: ids of users records that do not exist were dropped: 1 \(e\.g\. zzzzzzzzzzzzzzz\)$/m,
      /^ {2}posts\.cover: files missing from storage\/ were left out: 1 \(e\.g\. lost_q1w2e3r4t5\.png\)$/m,
      /^ {2}_authOrigins, _externalAuths, _mfas, _otps: /m,
    ])
      expect(report).toMatch(line)

    const server = await resources.server(plinth.args)
    // The translated list rule: published posts for everyone, drafts for their author only.
    expect(await titles(server, null)).toEqual(['Bob public', 'Hello'])
    const ann = await signIn(server, 'users', 'ann@example.com', PASSWORDS.ann)
    const bob = await signIn(server, 'users', 'bob@example.com', PASSWORDS.bob)
    expect(await titles(server, ann.token)).toEqual(['Ann draft', 'Bob public', 'Hello'])
    expect(await titles(server, bob.token)).toEqual(['Bob draft', 'Bob public', 'Hello'])
    const root = await signIn(server, '_superusers', 'root@example.com', PASSWORDS.root)
    expect(await titles(server, root.token)).toEqual(['Ann draft', 'Bob draft', 'Bob public', 'Hello'])

    // The old bcrypt hash proved the password once; argon2id replaced it, and it signs in still.
    const [stored] = await plinth.query('select password from users where id = $1', IDS.ann)
    expect(stored!.password).toMatch(/^\$argon2id\$/)
    await signIn(server, 'users', 'ann@example.com', PASSWORDS.ann)
    const wrong = await fetch(`${server.url}/api/collections/users/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identity: 'bob@example.com', password: 'not the password' }),
    })
    expect(wrong.status).toBe(400)

    const hello = await get(server, `/api/collections/posts/records/${IDS.hello}?expand=author`, ann.token)
    expect(hello.status).toBe(200)
    const record = JSON.parse(hello.body.toString())
    expect(record).toMatchObject({
      id: IDS.hello,
      author: IDS.ann,
      editors: [IDS.bob],
      tags: ['news', 'tech'],
      meta: { pinned: true },
      location: { lon: 1.5, lat: 2.5 },
      body: '<p>Hi </p>',
      contact: 'press@example.com',
      status: 'live',
      publishedAt: '2024-05-01T10:00:00.000Z',
      created: '2024-05-01T10:00:00.000Z',
      expand: { author: { id: IDS.ann, name: 'Ann' } },
    })
    expect(record.attachments).toHaveLength(1)
    const cover = await get(server, `/api/files/posts/${IDS.hello}/${record.cover}`)
    expect(cover.status).toBe(200)
    expect(cover.type).toBe('image/png')
    expect(cover.body.equals(COVER)).toBe(true)

    const draft = await get(server, `/api/collections/posts/records/${IDS.bobDraft}`, bob.token)
    expect(JSON.parse(draft.body.toString()).editors).toEqual([IDS.ann])
    // The delete rule read a header PocketBase sends and Plinth rules cannot: it is closed.
    expect(
      (await send(server, 'DELETE', `/api/collections/posts/records/${IDS.annDraft}`, ann.token)).status,
    ).toBe(403)
    const comments = await get(server, '/api/collections/comments/records?sort=message', ann.token)
    expect(JSON.parse(comments.body.toString()).items.map((c: Json) => [c.message, c.parent])).toEqual([
      ['Nice', null],
      ['Thanks', IDS.nice],
    ])
    // Imported ids are kept, so new records point at them.
    const reply = await send(server, 'POST', '/api/collections/comments/records', ann.token, {
      post: IDS.hello,
      author: IDS.ann,
      message: 'More',
    })
    expect(reply.status, reply.text).toBe(201)
    const stats = await get(server, '/api/collections/post_stats/records?sort=title')
    expect(JSON.parse(stats.body.toString()).items.map((s: Json) => [s.title, s.total])).toEqual([
      ['Ann draft', 0],
      ['Bob draft', 0],
      ['Bob public', 0],
      ['Hello', 3],
    ])
  })

  test('a dry run prints the report and writes nothing; a target with collections is refused', async () => {
    const source = pocketBase()
    const plinth = await target()
    const dry = await runPlinth(['import', 'pocketbase', source, '--dry-run', ...plinth.args])
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^Dry run: nothing was written\. Importing .* would give:$/m)
    expect(dry.stdout).toMatch(/^ {2}posts\s+base\s+4 records, 2 files$/m)
    expect(dry.stdout).toMatch(/^ {2}posts\.deleteRule: /m)
    expect(dry.stdout).toMatch(/^ {2}posts\.editors: ids of users records that do not exist were dropped: 1/m)
    expect(await collectionNames(plinth.args)).toEqual([])
    expect(existsSync(join(plinth.dir, 'storage'))).toBe(false)

    expect((await runPlinth(['import', 'pocketbase', source, ...plinth.args])).code).toBe(0)
    const names = (await collectionNames(plinth.args)).sort()
    expect(names).toEqual(['comments', 'post_stats', 'posts', 'users'])
    expectOneLineFailure(
      await runPlinth(['import', 'pocketbase', source, ...plinth.args]),
      /The target already has collections \(.*posts.*\): import into an empty Plinth, or add --force to import beside them\./,
    )
    expectOneLineFailure(
      await runPlinth(['import', 'pocketbase', source, '--force', ...plinth.args]),
      /The target already has a collection named \w+, as the PocketBase data does: rename or delete one of them first\./,
    )
    expect((await collectionNames(plinth.args)).sort()).toEqual(names)
  })

  test('records PocketBase holds against its own indexes stop the import, which is undone', async () => {
    const source = pocketBase()
    const db = new Database(join(source, 'data.db'))
    db.exec('DROP INDEX idx_posts_title')
    db.prepare('UPDATE posts SET title = ? WHERE id = ?').run('Hello', IDS.annDraft)
    db.close()
    const plinth = await target()
    expectOneLineFailure(
      await runPlinth(['import', 'pocketbase', source, ...plinth.args]),
      /The import stopped and was undone \(its collections deleted again, its files removed\): Two records of posts hold the same title, which a unique index refuses\./,
    )
    expect(await collectionNames(plinth.args)).toEqual([])
  })

  test('refuses what is not the data folder of a PocketBase it reads, and creates nothing', async () => {
    const plinth = await target()
    const empty = resources.folder('pb-empty-')
    const garbage = resources.folder('pb-garbage-')
    writeFileSync(join(garbage, 'data.db'), Buffer.alloc(8192, 7))
    const old = resources.folder('pb-old-')
    writeOldPocketBaseData(old)
    const foreign = resources.folder('pb-foreign-')
    new Database(join(foreign, 'data.db')).exec('CREATE TABLE notes (id TEXT PRIMARY KEY)')
    const cases: Array<[string, RegExp]> = [
      [join(empty, 'nope'), /is not a folder: give the pb_data folder of a PocketBase\./],
      [empty, /is not a PocketBase pb_data folder: it has no data\.db\./],
      [garbage, /data\.db is not a readable SQLite database: file is not a database\./],
      [
        old,
        /was written by PocketBase v0\.22 or older, whose layout this import does not read\. Start PocketBase v0\.23 or newer on it once/,
      ],
      [foreign, /is not a PocketBase database: it has no _collections table\./],
    ]
    for (const [dir, reason] of cases)
      expectOneLineFailure(await runPlinth(['import', 'pocketbase', dir, ...plinth.args]), reason)
    // The source is checked before the target is opened: not even Plinth's own tables were made.
    if (kind === 'sqlite') expect(existsSync(plinth.dir)).toBe(false)
    else
      expect(
        await plinth.query(
          'select count(*)::int as n from information_schema.tables where table_schema = current_schema() and table_name <> $1',
          '',
        ),
      ).toEqual([{ n: 0 }])
  })
})
