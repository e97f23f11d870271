import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { inject } from 'vitest'

export type TestDialect = 'sqlite' | 'postgres'

/** The dialects every database test runs on. */
export const testDialects: TestDialect[] = ['sqlite', 'postgres']

/** Why PostgreSQL tests are skipped on this machine, or '' when they run. */
export function postgresSkipReason(): string {
  return inject('postgresSkipReason')
}

export function shouldSkip(dialect: TestDialect): boolean {
  return dialect === 'postgres' && inject('postgresUrl') === null
}

/**
 * A PostgreSQL URL whose connections use a fresh schema of their own, so test
 * files run in parallel without seeing each other's tables.
 */
export async function freshPostgresUrl(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = inject('postgresUrl')
  if (!base) throw new Error(postgresSkipReason())
  const schema = `t_${randomBytes(6).toString('hex')}`
  await adminQuery(`create schema ${schema}`)
  const url = new URL(base)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return {
    url: url.toString(),
    drop: () => adminQuery(`drop schema if exists ${schema} cascade`),
  }
}

/** One statement on its own connection: creating and dropping schemas and databases. */
export async function adminQuery(statement: string, url = inject('postgresUrl')!): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}
