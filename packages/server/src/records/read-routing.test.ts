import type { Kysely } from 'kysely'
import { describe, expect, test } from 'vitest'
import type { ReadReplicas } from '../db/index.js'
import { anonymous, type Caller } from '../identity/index.js'
import { ReadRouting } from './read-routing.js'

const primary = { name: 'primary' } as unknown as Kysely<any>
const replica = { name: 'replica' } as unknown as Kysely<any>
// Only where a read goes matters here; the replicas' own connecting is tested through HTTP.
const replicas = { read: (work: (db: Kysely<any>) => Promise<unknown>) => work(replica) } as ReadReplicas

const withSession = (id: string): Caller => ({
  auth: null,
  isSuperuser: false,
  session: { id, impersonatedBy: null, signedInAt: 0 },
})
const withKey = (id: string): Caller => ({ auth: null, isSuperuser: false, apiKey: { id, scopes: [] } })

function routing(stickyMs = 1000) {
  const clock = { now: 0 }
  return { clock, reads: new ReadRouting(primary, replicas, stickyMs, () => clock.now) }
}

const whereReads = (reads: ReadRouting, caller: Caller) => reads.read(caller, async (db) => db)

describe('where a record read goes', () => {
  test('a caller that wrote reads from the primary until the window ends', async () => {
    const { clock, reads } = routing()
    reads.noteWrite(withSession('a'))
    expect(await whereReads(reads, withSession('a'))).toBe(primary)
    expect(await whereReads(reads, withSession('b'))).toBe(replica)
    clock.now = 1000
    expect(await whereReads(reads, withSession('a'))).toBe(replica)
  })

  test('an API key is remembered by its id, and anonymous callers not at all', async () => {
    const { reads } = routing()
    reads.noteWrite(withKey('k1'))
    reads.noteWrite(anonymous)
    expect(await whereReads(reads, withKey('k1'))).toBe(primary)
    expect(await whereReads(reads, anonymous)).toBe(replica)
  })

  test('remembers at most 10 000 callers, forgetting the oldest write first', async () => {
    const { reads } = routing()
    for (let i = 0; i <= 10_000; i++) reads.noteWrite(withSession(`s${i}`))
    expect(await whereReads(reads, withSession('s0'))).toBe(replica)
    expect(await whereReads(reads, withSession('s1'))).toBe(primary)
    expect(await whereReads(reads, withSession('s10000'))).toBe(primary)
  })

  test('without replicas every read goes to the primary, and a window of 0 remembers no writer', async () => {
    const none = new ReadRouting(primary, null, 1000)
    expect(await whereReads(none, anonymous)).toBe(primary)
    const { reads } = routing(0)
    reads.noteWrite(withSession('a'))
    expect(await whereReads(reads, withSession('a'))).toBe(replica)
  })
})
