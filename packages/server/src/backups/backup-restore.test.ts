import {
  copyFileSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { create, extract } from 'tar'
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import { loadConfig, type PlinthConfig, type S3Config } from '../config/index.js'
import { openFileStorage } from '../files/index.js'
import { superuser } from '../identity/index.js'
import { expectOneLineFailure, runPlinth } from '../test-support/cli-run.js'
import { postgresSkipReason, shouldSkip, type TestDialect, testDialects } from '../test-support/databases.js'
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  expectSameState,
  populate,
  servedState,
} from '../test-support/populated-server.js'
import { startS3Server } from '../test-support/s3-server.js'
import { TestResources, withCore } from '../test-support/test-resources.js'

interface Deployment {
  kind: TestDialect
  dir: string
  databaseUrl: string | null
  args: string[]
}

// The built CLI and servers started from it: `npm run build` first when running this file alone.
describe('plinth backup, restore and migrate-data', () => {
  test.each([['backup'], ['restore'], ['migrate-data']])('%s --help prints its usage', async (command) => {
    const run = await runPlinth([command, '--help'])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`Usage: plinth ${command} `)
  })
})

describe.each(testDialects)('plinth backup and restore on %s', { timeout: 180_000 }, (kind) => {
  const resources = new TestResources()
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(() => resources.release())

  const folder = () => resources.folder('plinth-backups-')
  const serving = (target: Deployment, env: Record<string, string> = {}) => resources.server(target.args, env)

  async function deployment(of: TestDialect = kind): Promise<Deployment> {
    const dir = folder()
    const databaseUrl = of === 'postgres' ? await resources.postgres() : null
    return { kind: of, dir, databaseUrl, args: argsOf(dir, databaseUrl) }
  }

  /** A deployment with a superuser, and the archive of it: no server needed to back up. */
  async function archiveOf(source: Deployment): Promise<string> {
    expect((await runPlinth(['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, ...source.args])).code).toBe(
      0,
    )
    const archives = folder()
    const made = await runPlinth(['backup', '--to', archives, ...source.args])
    expect(made.code, made.stderr).toBe(0)
    return join(archives, readdirSync(archives)[0]!)
  }

  let kept: { dir: string; archive: string } | undefined
  afterAll(() => kept && rmSync(kept.dir, { recursive: true, force: true }))
  /** One archive shared by the tests that only read it: making one takes two runs of the CLI. */
  async function sharedArchive(): Promise<string> {
    if (!kept) {
      const made = await archiveOf(await deployment())
      const dir = mkdtempSync(join(tmpdir(), 'plinth-kept-backup-'))
      kept = { dir, archive: join(dir, basename(made)) }
      copyFileSync(made, kept.archive)
    }
    return kept.archive
  }

  test('an archive made while the server serves restores to a server that answers as before', async () => {
    const source = await deployment()
    expect((await runPlinth(['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, ...source.args])).code).toBe(
      0,
    )
    const server = await serving(source)
    const before = await servedState(server, await populate(server))

    const archives = folder()
    const made = await runPlinth(['backup', '--to', archives, ...source.args])
    expect(made.code, made.stderr).toBe(0)
    const [name] = readdirSync(archives)
    expect(name).toMatch(/^plinth-backup-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.tar\.gz$/)
    expect(made.stdout).toBe(
      `Backed up to ${join(archives, name!)} (${made.stdout.match(/\(([\d.]+ MB)/)![1]}, 1 files).\n`,
    )

    const targets =
      kind === 'postgres' ? [await deployment(), await deployment('sqlite')] : [await deployment()]
    for (const target of targets) {
      const restored = await runPlinth(['restore', join(archives, name!), ...target.args])
      expect(restored.code, restored.stderr).toBe(0)
      expect(restored.stdout).toMatch(
        new RegExp(
          `^Restored the ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} backup of \\S+ \\(Plinth [\\d.]+\\) into `,
        ),
      )
      await expectSameState(await serving(target), before, { withTokens: false })
    }
  })

  test('a target that holds data is refused and kept; --force replaces it', async () => {
    const file = await archiveOf(await deployment())
    const target = await deployment()
    await runPlinth(['superuser', 'upsert', 'other@example.com', 'another password 1', ...target.args])
    const config = configOf(target)
    await withCore(config, async ({ collections, records }) => {
      await collections.create({ name: 'notes', fields: [{ name: 'body', type: 'text' }] })
      await records.create(superuser, 'notes', { body: 'kept' })
    })
    const refused = await runPlinth(['restore', file, ...target.args])
    expectOneLineFailure(
      refused,
      kind === 'sqlite'
        ? /already holds a database: .* or pass --force/
        : /is not empty \(it holds .*notes.*\).* --force/,
    )
    expect(await contentsOf(target)).toEqual({
      collections: ['notes'],
      superusers: ['other@example.com'],
      notes: 1,
    })

    const replaced = await runPlinth(['restore', file, '--force', ...target.args])
    expect(replaced.code, replaced.stderr).toBe(0)
    expect(await contentsOf(target)).toEqual({ collections: [], superusers: [ADMIN_EMAIL], notes: 0 })
  })

  const damages: Array<{
    name: string
    reason: RegExp
    damage: (file: string, work: string) => Promise<string>
  }> = [
    {
      name: 'a missing file',
      reason: /There is no backup file .*nope\.tar\.gz/,
      damage: async (_file, work) => join(work, 'nope.tar.gz'),
    },
    {
      name: 'a file that is not an archive',
      reason: /is not a Plinth backup, or it is damaged/,
      damage: async (_file, work) => written(join(work, 'notes.tar.gz'), 'just some text'),
    },
    {
      name: 'a truncated archive',
      reason: /is not a Plinth backup, or it is damaged/,
      damage: async (file, work) => {
        const bytes = readFileSync(file)
        return written(join(work, 'half.tar.gz'), bytes.subarray(0, Math.floor(bytes.length / 2)))
      },
    },
    {
      name: 'an archive without a manifest',
      reason: /is not a Plinth backup: it has no manifest\.json/,
      damage: (file, work) => repacked(file, work, (root) => rmSync(join(root, 'manifest.json'))),
    },
    {
      name: 'an entry changed after the backup',
      reason: /The backup is damaged: secret does not match its checksum/,
      damage: (file, work) =>
        repacked(file, work, (root) => writeFileSync(join(root, 'secret'), 'x'.repeat(43))),
    },
    {
      name: 'an entry added after the backup',
      reason: /The backup is damaged: extra\.txt is not in its manifest/,
      damage: (file, work) => repacked(file, work, (root) => writeFileSync(join(root, 'extra.txt'), 'x')),
    },
    {
      name: 'a backup of a newer Plinth',
      reason:
        /made by Plinth 9\.0\.0, whose database has steps this Plinth does not know \(9990_later\); upgrade/,
      damage: (file, work) =>
        repacked(file, work, (root) =>
          editManifest(root, (manifest) => ({
            ...manifest,
            plinth: '9.0.0',
            systemMigrations: [...(manifest.systemMigrations as string[]), '9990_later'],
          })),
        ),
    },
    {
      name: 'a backup in a newer format',
      reason: /made by Plinth 9\.0\.0, in a format this Plinth cannot read/,
      damage: (file, work) =>
        repacked(file, work, (root) =>
          editManifest(root, (manifest) => ({ ...manifest, plinth: '9.0.0', format: 2 })),
        ),
    },
  ]

  test.each(damages)('refuses $name with the reason and changes nothing', async ({ damage, reason }) => {
    const file = await sharedArchive()
    const target = await deployment()
    expectOneLineFailure(await runPlinth(['restore', await damage(file, folder()), ...target.args]), reason)
    expect(readdirSync(target.dir)).toEqual([])
    if (target.databaseUrl) expect(await tablesIn(target.databaseUrl)).toBe(0)
  })

  test('refuses a target it cannot reach or use, and changes nothing', async () => {
    const file = await sharedArchive()
    const dir = folder()
    const wrongUrl = await runPlinth([
      'restore',
      file,
      '--dir',
      dir,
      '--database-url',
      'mysql://127.0.0.1/plinth',
    ])
    expectOneLineFailure(wrongUrl, /PLINTH_DATABASE_URL: only postgres:\/\/ URLs are supported/)
    expect(readdirSync(dir)).toEqual([])
    if (kind === 'postgres') {
      const closed = await runPlinth([
        'restore',
        file,
        '--dir',
        dir,
        '--database-url',
        'postgres://postgres@127.0.0.1:1/x',
      ])
      expectOneLineFailure(closed, /ECONNREFUSED/)
    } else {
      const postgres = await deployment('postgres')
      expectOneLineFailure(
        await runPlinth(['restore', file, ...postgres.args]),
        /The backup is of a SQLite database and restores to SQLite only/,
      )
      expect(await tablesIn(postgres.databaseUrl!)).toBe(0)
    }
    expect(readdirSync(dir)).toEqual([])
  })

  test('with files in S3, archives go to the bucket under backups/ and the files stay there', async () => {
    const bucket = await startS3Server()
    resources.add(bucket.close)
    const env = s3Env(bucket.config)
    const source = await deployment()
    await runPlinth(['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, ...source.args], env)
    const server = await serving(source, env)
    const before = await servedState(server, await populate(server))
    const runs = []
    for (let run = 0; run < 2; run++)
      runs.push(await runPlinth(['backup', '--to', 's3', '--keep', '1', ...source.args], env))
    expect(runs.map((run) => run.code)).toEqual([0, 0])
    const location =
      /^Backed up to (s3:\/\/plinth-test\/backups\/plinth-backup-\S+\.tar\.gz) \(.*, files left in the bucket plinth-test\)\.$/m
    expect(runs[0]!.stdout).toMatch(location)
    expect(runs[1]!.stdout).toContain('Removed 1 older archives.')
    const storage = await openFileStorage(loadConfig(env).files)
    resources.add(() => storage.close())
    const kept = await storage.list('backups/')
    expect(kept).toEqual([location.exec(runs[1]!.stdout)![1]!.slice('s3://plinth-test/'.length)])

    const file = join(folder(), 'downloaded.tar.gz')
    await pipeline(await storage.read(kept[0]!), createWriteStream(file))
    const target = await deployment()
    const restored = await runPlinth(['restore', file, ...target.args], env)
    expect(restored.code, restored.stderr).toBe(0)
    expect(restored.stdout).toContain(
      'The files of records were not in the backup: they stay in the S3 bucket plinth-test.',
    )
    await expectSameState(await serving(target, env), before, { withTokens: false })
  })

  test('backup refuses what it cannot do, with the reason', async () => {
    const empty = await deployment()
    if (kind === 'sqlite')
      expectOneLineFailure(
        await runPlinth(['backup', ...empty.args]),
        /There is no database in .*: nothing to back up/,
      )
    expectOneLineFailure(
      await runPlinth(['backup', '--to', 's3', ...empty.args]),
      /Backups to s3 go to the bucket of the files: set PLINTH_S3_BUCKET/,
    )
    expectOneLineFailure(
      await runPlinth(['backup', '--keep', 'none', ...empty.args]),
      /--keep must be a whole number/,
    )
  })
})

function s3Env(config: S3Config): Record<string, string> {
  return {
    PLINTH_S3_ENDPOINT: config.endpoint!,
    PLINTH_S3_BUCKET: config.bucket,
    PLINTH_S3_ACCESS_KEY: config.accessKey,
    PLINTH_S3_SECRET: config.secret,
    PLINTH_S3_FORCE_PATH_STYLE: 'true',
  }
}

function argsOf(dir: string, databaseUrl: string | null): string[] {
  return ['--dir', dir, ...(databaseUrl ? ['--database-url', databaseUrl] : [])]
}

function configOf(target: Deployment): PlinthConfig {
  return loadConfig({}, { dataDir: target.dir, databaseUrl: target.databaseUrl, logLevel: 'silent' })
}

/** What a deployment holds, read through the records service. */
async function contentsOf(target: Deployment) {
  return withCore(configOf(target), async ({ collections, records }) => {
    const names = collections
      .list()
      .filter((c) => !c.system)
      .map((c) => c.name)
    const page = { page: 1, perPage: 10, filter: '', sort: '', skipTotal: false }
    const admins = await records.list(superuser, '_superusers', page)
    const notes = names.includes('notes') ? (await records.list(superuser, 'notes', page)).totalItems : 0
    return { collections: names, superusers: admins.items.map((a) => a.email), notes }
  })
}

async function tablesIn(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const result = await client.query(
      `select count(*)::int as n from pg_tables where schemaname = current_schema()`,
    )
    return result.rows[0].n
  } finally {
    await client.end()
  }
}

function written(path: string, content: string | Uint8Array): string {
  writeFileSync(path, content)
  return path
}

/** The archive unpacked, changed by `change`, and packed again. */
async function repacked(file: string, work: string, change: (root: string) => void): Promise<string> {
  const root = join(work, 'unpacked')
  mkdirSync(root)
  await extract({ file, cwd: root })
  change(root)
  const out = join(work, 'changed.tar.gz')
  await create({ gzip: true, cwd: root, file: out }, readdirSync(root))
  return out
}

function editManifest(
  root: string,
  edit: (manifest: Record<string, unknown>) => Record<string, unknown>,
): void {
  const path = join(root, 'manifest.json')
  writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')))))
}
