import type { Kysely } from 'kysely'
import { EVENT_CURSORS_TABLE } from '../events/index.js'

/** The position a durable consumer has written down, or undefined before it first held its place. */
export async function recordedPosition(db: Kysely<any>, consumer: string): Promise<number | undefined> {
  const row = await db
    .selectFrom(EVENT_CURSORS_TABLE)
    .select('seq')
    .where('consumer', '=', consumer)
    .executeTakeFirst()
  return row === undefined ? undefined : Number(row.seq)
}
