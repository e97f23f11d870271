import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { ConfigError, loadConfig } from '../config/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { BACKUP_JOB } from './index.js'

describe('backup settings', () => {
  test.each([
    ['PLINTH_BACKUP_CRON', 'every night', /PLINTH_BACKUP_CRON: not a cron expression/],
    ['PLINTH_BACKUP_CRON', '0 0 31 2 *', /PLINTH_BACKUP_CRON: "0 0 31 2 \*" never runs/],
    ['PLINTH_BACKUP_KEEP', '0', /PLINTH_BACKUP_KEEP: expected 1\.\.10000, got 0/],
  ])('%s=%s stops start-up with a message naming it', (key, value, reason) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [key]: value })).toThrow(reason)
  })

  test('defaults: no schedule, seven archives kept, in the data folder', () => {
    expect(loadConfig({}).backups).toEqual({ cron: null, keep: 7, to: null })
  })
})

describe.each(testDialects)('scheduled backups on %s', { timeout: 60_000 }, (kind) => {
  let t: TestApp | undefined
  let archives = ''
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    archives = mkdtempSync(join(tmpdir(), 'plinth-scheduled-'))
  })
  afterEach(async () => {
    await t?.close()
    t = undefined
    rmSync(archives, { recursive: true, force: true })
  })

  test('each run of the backup job adds an archive and keeps only the newest PLINTH_BACKUP_KEEP', async () => {
    t = await createTestApp(kind, { backups: { cron: null, keep: 2, to: archives } })
    const made: string[] = []
    for (let run = 0; run < 3; run++) {
      const id = await t.app.plinth.jobs.enqueue(BACKUP_JOB, null)
      await t.app.plinth.jobs.drain()
      expect((await t.app.plinth.jobs.get(id!))?.state).toBe('succeeded')
      const names = readdirSync(archives).filter((name) => name.endsWith('.tar.gz'))
      made.push(...names.filter((name) => !made.includes(name)))
    }
    expect(made).toHaveLength(3)
    expect(readdirSync(archives).sort()).toEqual(made.slice(1).sort())
  })

  test('PLINTH_BACKUP_CRON makes backups on its schedule while the server runs', async () => {
    t = await createTestApp(kind, { backups: { cron: '* * * * * *', keep: 1, to: archives } })
    // The schedule ticks every second: its first archive appears without anything enqueued by hand.
    await vi.waitFor(
      () => expect(readdirSync(archives).filter((n) => n.endsWith('.tar.gz'))).toHaveLength(1),
      {
        timeout: 30_000,
        interval: 100,
      },
    )
    const jobs = await t.request({ method: 'GET', url: `/api/jobs?name=${BACKUP_JOB}` })
    expect(jobs.statusCode, jobs.body).toBe(200)
    expect(jobs.json().items.length).toBeGreaterThan(0)
  })
})
