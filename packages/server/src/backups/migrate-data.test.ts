import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { expectOneLineFailure, runPlinth } from '../test-support/cli-run.js'
import { postgresSkipReason, shouldSkip } from '../test-support/databases.js'
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  expectSameState,
  populate,
  type ServedState,
  servedState,
} from '../test-support/populated-server.js'
import { TestResources } from '../test-support/test-resources.js'

/** Both servers issue and accept tokens for the same public URL, as one deployment moved would. */
const ENV = { PLINTH_PUBLIC_URL: 'http://plinth.test' }

// The built CLI and servers started from it: `npm run build` first when running this file alone.
describe('plinth migrate-data', { timeout: 240_000 }, () => {
  const resources = new TestResources()
  beforeEach((context) => {
    if (shouldSkip('postgres')) context.skip(postgresSkipReason())
  })
  afterEach(() => resources.release())

  const folder = () => resources.folder('plinth-migrate-')
  const postgres = () => resources.postgres()
  const serving = (args: string[]) => resources.server(args, ENV)

  /** A SQLite deployment filled through HTTP, its server stopped: what it served, and its folder. */
  async function sqliteApp(): Promise<{ dir: string; before: ServedState }> {
    const dir = folder()
    expect((await runPlinth(['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', dir])).code).toBe(0)
    const server = await serving(['--dir', dir])
    const before = await servedState(server, await populate(server))
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    return { dir, before }
  }

  test('moves a SQLite app into PostgreSQL: records, users, sessions, tokens and files keep working', async () => {
    const { dir, before } = await sqliteApp()
    const url = await postgres()
    const run = await runPlinth(['migrate-data', '--from', dir, '--to', url, '--batch-size', '3'])
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines).toContain('copying posts: 7/7 rows')
    expect(lines).toContain('linking posts: 7/7 rows')
    expect(lines.at(-2)).toMatch(/^verifying (\d+)\/\1 tables$/)
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^Copied and verified \\d+ tables \\(\\d+ rows\\)\\. Start Plinth with --database-url and --dir ${dir}\\.$`,
      ),
    )

    const server = await serving(['--dir', dir, '--database-url', url])
    await expectSameState(server, before, { withTokens: true })
    expectOneLineFailure(
      await runPlinth(['migrate-data', '--from', dir, '--to', url]),
      /The target database is not empty \(it holds .*the collection posts.*\): migrate into an empty database\./,
    )
  })

  test('a migration stopped by a row PostgreSQL refuses goes on where it stopped once the row is fixed', async () => {
    const { dir, before } = await sqliteApp()
    // SQLite keeps what it is given: text in a number column, as a careless script may have left it.
    const setViews = (value: unknown) => {
      const database = new Database(join(dir, 'data.db'))
      database.prepare(`update posts set views = ? where title = 'Post 4'`).run(value)
      database.close()
    }
    setViews('many')
    const url = await postgres()
    const args = ['migrate-data', '--from', dir, '--to', url, '--batch-size', '2']

    const stopped = await runPlinth(args)
    expectOneLineFailure(
      stopped,
      /^plinth: Copying posts stopped after 4 rows: invalid input syntax for type double precision: "many"\. Nothing of that batch was written; once the cause is fixed, run the command again and it goes on from there\.$/m,
    )
    expect(stopped.stdout).toContain('copying posts: 4/7 rows')

    const other = folder()
    await runPlinth(['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', other])
    expectOneLineFailure(
      await runPlinth(['migrate-data', '--from', other, '--to', url]),
      new RegExp(`The target holds an unfinished migration from ${dir}: finish it with --from ${dir}`),
    )

    setViews(6)
    const resumed = await runPlinth(args)
    expect(resumed.code, resumed.stderr).toBe(0)
    const copied = /^Went on from an earlier run that had copied (\d+) rows\.$/m.exec(resumed.stdout)
    expect(Number(copied?.[1])).toBeGreaterThanOrEqual(4)
    expect(resumed.stdout).toContain('copying posts: 7/7 rows')
    expect(resumed.stdout).not.toContain('copying authors')
    expect(resumed.stdout).toMatch(/^Copied and verified \d+ tables/m)

    await expectSameState(await serving(['--dir', dir, '--database-url', url]), before, { withTokens: true })
  })

  test('refuses bad input with the reason', async () => {
    const { dir } = await sqliteApp()
    const url = await postgres()
    const cases: Array<[string[], RegExp]> = [
      [['--from', dir, '--to', 'mysql://127.0.0.1/plinth'], /--to must be a postgres:\/\/… URL, got "mysql:/],
      [['--from', folder(), '--to', url], /There is no SQLite database in /],
      [['--from', dir, '--to', url, '--batch-size', '0'], /--batch-size must be a whole number from 1/],
      [['--from', dir, '--to', 'postgres://postgres@127.0.0.1:1/plinth'], /ECONNREFUSED/],
      [['--to', url], /required option '--from <dir>' not specified/],
    ]
    for (const [args, reason] of cases) {
      const run = await runPlinth(['migrate-data', ...args])
      expect(run.code, run.stdout).not.toBe(0)
      expect(run.stderr.split('\n')[0]).toMatch(reason)
    }
    const fresh = await runPlinth(['migrate-data', '--from', dir, '--to', url])
    expect(fresh.code, fresh.stderr).toBe(0)
  })
})
