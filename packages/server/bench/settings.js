import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** A positive number from the environment (`BENCH_*`), or `fallback` when it is not set. */
export function number(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`)
  return value
}

/** This process's environment without the caller's PLINTH_* settings, which would change what is measured. */
export function withoutPlinthSettings() {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PLINTH_')))
}

/**
 * The environment of a benched Plinth server: nothing inherited from the caller's PLINTH_*
 * settings, rate limits off (the load comes from one address), a token that outlives any run.
 */
export function plinthEnv(sync, extra = {}) {
  return {
    ...withoutPlinthSettings(),
    PLINTH_LOG_LEVEL: 'warn',
    PLINTH_SQLITE_SYNC: sync,
    PLINTH_RATE_LIMITS: 'off',
    PLINTH_TOKEN_TTL: '86400',
    ...extra,
  }
}

/** Waits until `check` (sync or async) holds or `withinMs` passes; answers its last result. */
export async function until(check, withinMs) {
  const deadline = Date.now() + withinMs
  while (!(await check()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  return check()
}

/** The PostgreSQL server benches use: BENCH_POSTGRES_URL, else the local one. */
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A schema of its own on POSTGRES_URL, its URL and a way to drop it; throws when none answers. */
export async function freshPostgresSchema() {
  const schema = `bench_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL })
      await client.connect()
      await client.query(`drop schema if exists ${schema} cascade`)
      await client.end()
    },
  }
}
