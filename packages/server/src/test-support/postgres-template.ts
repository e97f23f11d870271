import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { KEYS_TABLE } from '../auth/index.js'
import { loadConfig } from '../config/index.js'
import { createCore } from '../core/index.js'
import { adminQuery } from './databases.js'

let template: Promise<string | null> | undefined

function urlOf(database: string): string {
  const url = new URL(inject('postgresUrl')!)
  url.pathname = `/${database}`
  return url.toString()
}

/**
 * A database of this test process with Plinth's system migrations run, made once; null
 * when the server does not let the suite's user create databases.
 */
function migratedTemplate(): Promise<string | null> {
  template ??= (async () => {
    const name = `${inject('testDatabasePrefix')}template_${randomBytes(6).toString('hex')}`
    try {
      await adminQuery(`create database ${name}`)
    } catch {
      return null
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-template-'))
    try {
      const core = await createCore(loadConfig({}, { dataDir, databaseUrl: urlOf(name), logLevel: 'silent' }))
      await core.close()
      // The signing key is sealed with this start's secret; each test's app makes its own.
      await adminQuery(`delete from ${KEYS_TABLE}`, urlOf(name))
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
    return name
  })()
  return template
}

/**
 * A fresh database already migrated, copied from the process's template: PostgreSQL copies
 * the files in a fraction of the time the migrations take. Null when databases cannot be made.
 */
export async function migratedPostgresDatabase(): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const source = await migratedTemplate()
  if (!source) return null
  const name = `${inject('testDatabasePrefix')}${randomBytes(6).toString('hex')}`
  await adminQuery(`create database ${name} template ${source}`)
  return {
    url: urlOf(name),
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  }
}
