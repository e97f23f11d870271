import { execFile } from 'node:child_process'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { createProjectApp } from '../test-support/project.js'
import { CLI } from '../test-support/server-process.js'

const hookLog = { name: 'hook_log', type: 'base', fields: [{ name: 'entry', type: 'text' }] }
const items = {
  name: 'items',
  type: 'base',
  fields: [{ name: 'title', type: 'text' }],
  createRule: '',
  listRule: '',
}

// The before-hook loses a deadlock on its first run for "retried": PostgreSQL's code
// 40P01, which its dialect answers by running the whole transaction again.
const source = `
import { defineConfig } from 'plinth'
let attempts = 0
const trace = (records, entry) => records.asSuperuser().create('hook_log', { entry })
export default defineConfig({
  hooks: {
    items: {
      beforeCreate({ record }) {
        if (record.title === 'retried' && attempts++ === 0)
          throw Object.assign(new Error('deadlock detected'), { code: '40P01' })
      },
      async afterCreate({ record, records }) {
        await trace(records, 'afterCreate ' + record.title + ' after ' + attempts + ' attempts')
      },
    },
    _superusers: {
      async afterCreate({ record, records }) {
        await trace(records, 'superuser ' + record.email)
      },
    },
  },
})
`

describe.each(testDialects)('one pipeline for every writer on %s', (kind) => {
  let t: TestApp & { file: string }
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createProjectApp(kind, [hookLog, items], source)
  })
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterAll(async () => t?.close())

  async function entries(): Promise<string[]> {
    const response = await t.request({ method: 'GET', url: '/api/collections/hook_log/records?perPage=500' })
    return response.json().items.map((item: { entry: string }) => item.entry)
  }

  test('after-hooks run once, and only for the transaction attempt that committed', async () => {
    // The first write's after-hook is queued before the second loses the deadlock.
    const batch = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: '/api/collections/items/records', body: { title: 'first' } },
          { method: 'POST', url: '/api/collections/items/records', body: { title: 'retried' } },
        ],
      },
      auth: null,
    })
    const ran = (await entries()).filter((entry) => entry.startsWith('afterCreate'))
    if (t.app.plinth.dialect.supports.rowLocks) {
      // PostgreSQL runs the whole batch again; only the second attempt's effects happen.
      expect(batch.statusCode, batch.body).toBe(200)
      expect(ran).toEqual(['afterCreate first after 2 attempts', 'afterCreate retried after 2 attempts'])
    } else {
      // SQLite runs one writer at a time and never reruns: the lost attempt fails whole.
      expect(batch.statusCode).toBe(500)
      expect(ran).toEqual([])
    }
  })

  test('the CLI runs the same hooks as the HTTP app', async () => {
    const { dataDir, databaseUrl } = t.config
    const args = ['superuser', 'upsert', 'cli-root@example.com', 'a long password 1', '--dir', dataDir]
    if (databaseUrl) args.push('--database-url', databaseUrl)
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, ...args, '--config', t.file],
        { env: { PATH: process.env.PATH ?? '', PLINTH_SECRET: t.config.secret ?? '' }, timeout: 30_000 },
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, output: stdout + stderr }),
      )
    })
    expect(run.code, run.output).toBe(0)
    // The server learns of another process's write from the outbox, within a second.
    await until(async () => (await entries()).includes('superuser cli-root@example.com'), 5_000)
  })
})
