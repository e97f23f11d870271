import type { Kysely } from 'kysely'
import { describe, expect, test } from 'vitest'
import { ProcessState } from '../cluster/process-state.js'
import type { ReadReplicas } from '../db/index.js'
import { anonymous, type Caller } from '../identity/index.js'
import { ReadRouting, type SharedWriteMarks } from './read-routing.js'

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

function routing(stickyMs = 1000, shared: SharedWriteMarks | null = null) {
  const clock = { now: 0 }
  return { clock, reads: new ReadRouting(primary, replicas, stickyMs, { shared, now: () => clock.now }) }
}

const whereReads = (reads: ReadRouting, caller: Caller) => reads.read(caller, async (db) => db)

describe('where a record read goes', () => {
  test('a caller that wrote reads from the primary until the window ends', async () => {
    const { clock, reads } = routing()
    await reads.noteWrite(withSession('a'))
    expect(await whereReads(reads, withSession('a'))).toBe(primary)
    expect(await whereReads(reads, withSession('b'))).toBe(replica)
    clock.now = 1000
    expect(await whereReads(reads, withSession('a'))).toBe(replica)
  })

  test('an API key is remembered by its id, and anonymous callers not at all', async () => {
    const { reads } = routing()
    await reads.noteWrite(withKey('k1'))
    await reads.noteWrite(anonymous)
    expect(await whereReads(reads, withKey('k1'))).toBe(primary)
    expect(await whereReads(reads, anonymous)).toBe(replica)
  })

  test('remembers at most 10 000 callers, forgetting the oldest write first', async () => {
    const { reads } = routing()
    for (let i = 0; i <= 10_000; i++) await reads.noteWrite(withSession(`s${i}`))
    expect(await whereReads(reads, withSession('s0'))).toBe(replica)
    expect(await whereReads(reads, withSession('s1'))).toBe(primary)
    expect(await whereReads(reads, withSession('s10000'))).toBe(primary)
  })

  test('a write noted on one node sends the caller to the primary on another, for at least the window', async () => {
    const shared = new ProcessState()
    const clock = { now: 1900 }
    const node = () => new ReadRouting(primary, replicas, 1000, { shared, now: () => clock.now })
    const [a, b] = [node(), node()]
    await a.noteWrite(withSession('s'))
    expect(await whereReads(b, withSession('s'))).toBe(primary)
    expect(await whereReads(b, withSession('t'))).toBe(replica)
    // The write fell late in its window: the next window still remembers it.
    clock.now = 2899
    expect(await whereReads(b, withSession('s'))).toBe(primary)
    clock.now = 3000
    expect(await whereReads(b, withSession('s'))).toBe(replica)
  })

  test('a read whose shared marks cannot be read goes to the primary; a mark that cannot be written does not fail the write', async () => {
    const failing: SharedWriteMarks = {
      increment: () => Promise.reject(new Error('Redis is away')),
      peek: () => Promise.reject(new Error('Redis is away')),
    }
    const { reads } = routing(1000, failing)
    await reads.noteWrite(withSession('a'))
    expect(await whereReads(reads, withSession('b'))).toBe(primary)
    expect(await whereReads(reads, anonymous)).toBe(replica)
  })

  test('without replicas every read goes to the primary, and a window of 0 remembers no writer', async () => {
    const none = new ReadRouting(primary, null, 1000)
    expect(await whereReads(none, anonymous)).toBe(primary)
    const { reads } = routing(0)
    await reads.noteWrite(withSession('a'))
    expect(await whereReads(reads, withSession('a'))).toBe(replica)
  })
})
