import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { loadConfig, type PlinthConfig } from '../config/index.js'
import { createApp } from '../http/index.js'
import { superuser } from '../identity/index.js'
import { expectOneLineFailure, runPlinth } from '../test-support/cli-run.js'
import { freshPostgresUrl, postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { withCore } from '../test-support/test-resources.js'

const plinth = (...args: string[]) => runPlinth(args)

const schema = (collections: unknown[]) => `${JSON.stringify({ plinth: 1, collections }, null, 2)}\n`

const blog = schema([
  { name: 'authors', fields: [{ id: 'f_name', name: 'name', type: 'text', required: true }], listRule: '' },
  {
    name: 'posts',
    fields: [
      { id: 'f_title', name: 'title', type: 'text', max: 200 },
      { id: 'f_author', name: 'author', type: 'relation', collection: 'authors', onDelete: 'cascade' },
      { id: 'f_related', name: 'related', type: 'relation', collection: 'posts', maxSelect: 5 },
    ],
    indexes: [{ id: 'i_author', fields: ['author', 'title'] }],
    viewRule: 'author.name != ""',
  },
])

describe('plinth', () => {
  const helps = [
    [],
    ['serve'],
    ['superuser'],
    ['superuser', 'upsert'],
    ['migrate'],
    ['migrate', 'status'],
    ['migrate', 'up'],
    ['migrate', 'down'],
    ['schema'],
    ['schema', 'export'],
    ['schema', 'import'],
    ['schema', 'diff'],
  ].map((args) => ({ command: ['plinth', ...args].join(' '), args }))
  test.each(helps)('$command --help prints its usage', async ({ command, args }) => {
    const run = await plinth(...args, '--help')
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`Usage: ${command} `)
  })

  test.each([['--version'], ['-v']])('%s prints the version of the package', async (flag) => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    const run = await plinth(flag)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toBe(`${version}\n`)
  })

  const mistakes = [
    { name: 'an unknown command', args: ['nope'], reason: /^error: unknown command 'nope'/ },
    {
      name: 'a missing argument',
      args: ['schema', 'import'],
      reason: /^error: missing required argument 'file'/,
    },
    {
      name: 'an unknown option',
      args: ['schema', 'diff', 'x', '--nope'],
      reason: /^error: unknown option '--nope'/,
    },
  ]
  test.each(mistakes)('$name exits non-zero with the reason first', async ({ args, reason }) => {
    const run = await plinth(...args)
    expect(run.code).not.toBe(0)
    expect(run.stderr.split('\n')[0]).toMatch(reason)
    expect(run.stderr).not.toMatch(/^\s+at /m)
  })
})

// Each test runs the CLI several times over; a loaded machine needs more than the default 30 s.
describe.each(testDialects)('plinth on %s', { timeout: 90_000 }, (kind) => {
  const cleanups: Array<() => Promise<void>> = []
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
  })

  /** An empty deployment: the CLI flags that select it, and a folder for schema files. */
  async function deployment(owner = cleanups) {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-cli-'))
    const postgres = kind === 'postgres' ? await freshPostgresUrl() : null
    owner.push(async () => {
      await postgres?.drop()
      rmSync(dir, { recursive: true, force: true })
    })
    const config: PlinthConfig = loadConfig(
      {},
      { dataDir: dir, databaseUrl: postgres?.url ?? null, logLevel: 'silent' },
    )
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text)
      return join(dir, name)
    }
    return { args: ['--dir', dir, ...(postgres ? ['--database-url', postgres.url] : [])], config, file }
  }

  test('superuser upsert creates, then updates, and explains a bad email', async () => {
    const { args } = await deployment()
    const created = await plinth('superuser', 'upsert', 'Root@Example.com', 'a long password 1', ...args)
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout.trim()).toBe('Superuser root@example.com created.')
    const updated = await plinth('superuser', 'upsert', 'root@example.com', 'another password 2', ...args)
    expect(updated.stdout.trim()).toBe('Superuser root@example.com updated.')
    expectOneLineFailure(
      await plinth('superuser', 'upsert', 'not-an-email', 'a long password 1', ...args),
      /email/,
    )
  })

  test('superuser upsert of a new password ends every session of that superuser', async () => {
    const { args, config } = await deployment()
    expect((await plinth('superuser', 'upsert', 'root@example.com', 'a long password 1', ...args)).code).toBe(
      0,
    )
    const app = await createApp(config)
    const auth = (action: string, payload: object) =>
      app.inject({ method: 'POST', url: `/api/collections/_superusers/${action}`, payload })
    const whoAmI = (token: string) =>
      app.inject({ method: 'GET', url: '/api/auth/sessions', headers: { authorization: `Bearer ${token}` } })
    try {
      const sessions = []
      for (let i = 0; i < 2; i++) {
        const signIn = await auth('auth-with-password', {
          identity: 'root@example.com',
          password: 'a long password 1',
        })
        expect(signIn.statusCode, signIn.body).toBe(200)
        sessions.push(signIn.json())
        expect((await whoAmI(signIn.json().token)).statusCode).toBe(200)
      }
      const reset = await plinth('superuser', 'upsert', 'root@example.com', 'another password 2', ...args)
      expect(reset.code, reset.stderr).toBe(0)
      for (const session of sessions)
        expect((await auth('auth-refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401)
      // Another process ended the sessions: the server sees it once its verified-token cache
      // (under a second, see docs/security.md) lets go of the tokens it verified before.
      const now = Date.now()
      vi.spyOn(Date, 'now').mockImplementation(() => now + 1000)
      for (const session of sessions) expect((await whoAmI(session.token)).statusCode).toBe(401)
    } finally {
      vi.restoreAllMocks()
      await app.close()
    }
  })

  test('schema import, then migrate status, down and up', async () => {
    const { args, file } = await deployment()
    const path = file('schema.json', blog)
    const imported = await plinth('schema', 'import', path, ...args)
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout.trim().split('\n')).toEqual([
      'Created collection authors.',
      'Created collection posts (relation fields and rules follow).',
      'Updated collection posts.',
      `Imported ${path}: 3 changes.`,
    ])
    const status = await plinth('migrate', 'status', ...args)
    // The whole import is one migration, undone and applied again in one step.
    expect(status.stdout).toMatch(/1 {2}applied .* create authors; create posts; update posts\n$/)

    const down = await plinth('migrate', 'down', ...args)
    expect(down.stdout.trim()).toBe('Reverted 1 create authors; create posts; update posts.')
    const behind = await plinth('schema', 'diff', path, ...args)
    expect(behind.code).toBe(0)
    expect(behind.stdout).toContain('+ collection authors\n')
    expect(behind.stdout).toContain('+ collection posts\n')

    const up = await plinth('migrate', 'up', ...args)
    expect(up.stdout.trim()).toBe('Applied 1 create authors; create posts; update posts.')
    expect((await plinth('schema', 'diff', path, ...args)).stdout).toBe('No differences.\n')
    expect((await plinth('migrate', 'up', ...args)).stdout).toBe('Nothing to apply.\n')
  })

  test('schema import refuses a rule naming an unknown @request.auth field, before any step', async () => {
    const { args, file } = await deployment()
    const typo = schema([
      { name: 'members', type: 'auth', fields: [{ id: 'f_role', name: 'role', type: 'text' }] },
      {
        name: 'notes',
        fields: [{ id: 'f_body', name: 'body', type: 'text' }],
        listRule: '@request.auth.rol = "x"',
      },
    ])
    expectOneLineFailure(
      await plinth('schema', 'import', file('typo.json', typo), ...args),
      /notes.*listRule: @request\.auth\.rol names no field of any auth collection/,
    )
    expect((await plinth('migrate', 'status', ...args)).stdout).toBe('No collection migrations yet.\n')
  })

  test('export, import into a fresh database, diff: no differences', async () => {
    const source = await deployment()
    await plinth('schema', 'import', source.file('blog.json', blog), ...source.args)
    const printed = await plinth('schema', 'export', ...source.args)
    expect(printed.code, printed.stderr).toBe(0)
    const path = source.file('exported.json', '')
    const written = await plinth('schema', 'export', '--file', path, ...source.args)
    expect(written.stdout.trim()).toBe(`Exported 2 collections to ${path}.`)
    expect(readFileSync(path, 'utf8')).toBe(printed.stdout)
    const exported = JSON.parse(printed.stdout)
    expect(exported.collections.map((c: { name: string }) => c.name)).toEqual(['authors', 'posts'])
    expect(exported.collections[1].fields.map((f: { id: string }) => f.id)).toEqual([
      'f_title',
      'f_author',
      'f_related',
    ])

    const target = await deployment()
    expect((await plinth('schema', 'diff', path, ...target.args)).stdout).toMatch(/^\+ collection authors\n/)
    const imported = await plinth('schema', 'import', path, ...target.args)
    expect(imported.code, imported.stderr).toBe(0)
    const diff = await plinth('schema', 'diff', path, ...target.args)
    expect(diff.code).toBe(0)
    expect(diff.stdout).toBe('No differences.\n')
    const again = await plinth('schema', 'import', path, ...target.args)
    expect(again.stdout).toBe('Nothing to change.\n')
  })

  test('a view collection imports after the collections it reads, then no differences', async () => {
    const withView = schema([
      ...JSON.parse(blog).collections,
      {
        name: 'author_stats',
        type: 'view',
        viewQuery:
          'SELECT a.id, a.name, count(p.id) AS total FROM authors a LEFT JOIN posts p ON p.author = a.id GROUP BY a.id',
        listRule: '',
      },
    ])
    const { args, file } = await deployment()
    const path = file('schema.json', withView)
    const imported = await plinth('schema', 'import', path, ...args)
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain('Created view author_stats.\n')
    expect((await plinth('schema', 'diff', path, ...args)).stdout).toBe('No differences.\n')
    const exported = JSON.parse((await plinth('schema', 'export', ...args)).stdout)
    const view = exported.collections.find((c: { name: string }) => c.name === 'author_stats')
    // SQLite tells an expression's type from a stored row, and these tables are empty.
    expect(view.fields.map((f: { name: string; type: string }) => `${f.name}:${f.type}`)).toEqual([
      'name:text',
      `total:${kind === 'sqlite' ? 'text' : 'number'}`,
    ])
  })

  const malformed = [
    { name: 'not JSON', text: '{"plinth": 1, "collections": [', reason: /not valid JSON/ },
    {
      name: 'a wrong version',
      text: JSON.stringify({ plinth: 2, collections: [] }),
      reason: /plinth: must be 1/,
    },
    {
      name: 'collections that are not a list',
      text: JSON.stringify({ plinth: 1, collections: { posts: {} } }),
      reason: /collections: must be a list/,
    },
    {
      name: 'a name listed twice',
      text: schema([{ name: 'tags' }, { name: 'Tags' }]),
      reason: /collections\.1\.name: Tags is listed twice/,
    },
    {
      name: 'a field type that does not exist, after a valid collection',
      text: schema([{ name: 'tags' }, { name: 'bad', fields: [{ name: 'x', type: 'colour' }] }]),
      reason: /Cannot create collection bad: .*fields\.x\.type/,
    },
    {
      name: 'a rule naming an unknown field',
      text: schema([{ name: 'tags' }, { name: 'notes', listRule: 'nope = 1' }]),
      reason: /Cannot create collection notes: .*listRule: .*nope/,
    },
    {
      name: 'options an auth collection does not take',
      text: schema([{ name: 'tags' }, { name: 'users', type: 'auth', options: { otp: { enabled: 'yes' } } }]),
      reason: /Cannot create collection users: .*options\.otp\.enabled: must be true or false/,
    },
  ]
  describe('import refuses a malformed file', () => {
    // One deployment for the whole table: each case must leave it exactly as it was.
    const shared: Array<() => Promise<void>> = []
    let target: Awaited<ReturnType<typeof deployment>>
    let before = ''
    beforeAll(async () => {
      if (shouldSkip(kind)) return
      target = await deployment(shared)
      await plinth('schema', 'import', target.file('blog.json', blog), ...target.args)
      before = (await plinth('schema', 'export', ...target.args)).stdout
    })
    afterAll(async () => {
      for (const cleanup of shared.splice(0)) await cleanup()
    })

    test.each(malformed)('with $name, and changes nothing', async ({ text, reason }) => {
      const path = target.file('bad.json', text)
      expectOneLineFailure(await plinth('schema', 'import', path, '--delete-missing', ...target.args), reason)
      expect((await plinth('schema', 'export', ...target.args)).stdout).toBe(before)
    })
  })

  test('a rename in the file keeps the records', async () => {
    const { args, config, file } = await deployment()
    await plinth('schema', 'import', file('blog.json', blog), ...args)
    const id = await withCore(config, async ({ records }) => {
      const author = await records.create(superuser, 'authors', { name: 'Ada' })
      const post = await records.create(superuser, 'posts', { title: 'Hello', author: author.record.id })
      return String(post.record.id)
    })
    const exported = JSON.parse((await plinth('schema', 'export', ...args)).stdout)
    const posts = exported.collections[1]
    posts.name = 'articles'
    posts.fields[0].name = 'headline'
    posts.fields[2].collection = 'articles'
    posts.indexes[0].fields = ['author', 'headline']
    const path = file('renamed.json', schema(exported.collections))

    const diff = await plinth('schema', 'diff', path, ...args)
    expect(diff.stdout).toContain(
      '~ collection posts → articles (renamed)\n  ~ field title → headline (renamed)\n',
    )
    const imported = await plinth('schema', 'import', path, '--delete-missing', ...args)
    expect(imported.code, imported.stderr).toBe(0)
    expect(imported.stdout).toContain('Renamed collection posts to articles.\n')
    expect((await plinth('schema', 'diff', path, ...args)).stdout).toBe('No differences.\n')
    const stored = await withCore(config, ({ records }) => records.view(superuser, 'articles', id))
    expect(stored.record).toMatchObject({ id, headline: 'Hello' })
  })

  test('a change the database refuses stops the import, and nothing of it stays', async () => {
    const { args, config, file } = await deployment()
    await plinth('schema', 'import', file('blog.json', blog), ...args)
    await withCore(config, async ({ records }) => {
      const author = await records.create(superuser, 'authors', { name: 'Ada' })
      for (let i = 0; i < 2; i++)
        await records.create(superuser, 'posts', { title: 'Same', author: author.record.id })
    })
    const file2 = JSON.parse(blog)
    file2.collections[1].indexes.push({ id: 'i_title', fields: ['title'], unique: true })
    file2.collections.push({ name: 'tags', fields: [{ id: 'f_label', name: 'label', type: 'text' }] })
    const run = await plinth('schema', 'import', file('unique.json', schema(file2.collections)), ...args)
    expect(run.stdout).toBe('')
    expectOneLineFailure(run, /Cannot update collection posts: .*duplicate values.* Nothing was changed\./)
    const exported = JSON.parse((await plinth('schema', 'export', ...args)).stdout)
    expect(exported.collections.map((c: { name: string }) => c.name)).toEqual(['authors', 'posts'])
    expect(exported.collections[1].indexes).toHaveLength(1)
  })

  test('import --dry-run prints the plan and changes nothing', async () => {
    const { args, file } = await deployment()
    const path = file('blog.json', blog)
    const dry = await plinth('schema', 'import', path, '--dry-run', ...args)
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toBe((await plinth('schema', 'diff', path, ...args)).stdout)
    expect(dry.stdout).toContain('+ collection posts\n  + field title (text)\n')
    expect(JSON.parse((await plinth('schema', 'export', ...args)).stdout).collections).toEqual([])
    expect((await plinth('migrate', 'status', ...args)).stdout).toBe('No collection migrations yet.\n')
  })
})
