import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { loadConfig } from '../config/index.js'
import { createApp } from '../http/index.js'
import { superuser } from '../identity/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { recordedPosition } from '../test-support/event-cursors.js'
import { until } from '../test-support/job-queues.js'
import { createProjectApp } from '../test-support/project.js'
import type { EventConsumer } from './dispatcher.js'
import { EVENTS_TABLE, newestSeq, readEvents } from './outbox.js'
import type { StoredEvent } from './types.js'

const fast = {
  pollIntervalMs: 20,
  retentionDays: 7,
  leaseMs: 30_000,
  amqpUrl: null,
  natsUrl: null,
  mqttUrl: null,
}
const notes = { name: 'notes', fields: [{ name: 'text', type: 'text' }], createRule: '', listRule: '' }

function recorder(name: string, durable = true) {
  const seen: StoredEvent[] = []
  const consumer: EventConsumer = {
    name,
    durable,
    async deliver(events) {
      seen.push(...events)
    },
  }
  return { consumer, seen }
}

describe.each(testDialects)('event delivery on %s', (kind) => {
  let t: TestApp
  const others: Array<{ close(): Promise<void> }> = []

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, { events: fast })
    await createCollection(t, notes)
  })
  afterEach(async () => {
    for (const other of others.splice(0)) await other.close()
    await t?.close()
  })

  const writeNotes = (count: number, prefix = 'n') =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        t.app.plinth.records.create(superuser, 'notes', { text: `${prefix}${i}` }),
      ),
    )

  /** Waits until the named consumer holds its place: events after this are its to deliver. */
  const hasCursor = (consumer: string) =>
    until(async () => (await recordedPosition(t.app.plinth.dialect.db, consumer)) !== undefined)

  /** Another node on the same database. */
  async function secondNode() {
    const app = await createApp(loadConfig({}, { ...t.config }))
    await app.ready()
    others.push(app)
    return app
  }

  test('hands every event of concurrent writes to a consumer once, in commit order, with no gap', async () => {
    const { consumer, seen } = recorder('audit')
    t.app.plinth.events.add(consumer)
    const start = await newestSeq(t.app.plinth.dialect.db)
    await writeNotes(120)
    await until(() => seen.filter((event) => event.seq > start).length >= 120)
    const seqs = seen.map((event) => event.seq).filter((seq) => seq > start)
    expect(seqs).toEqual(Array.from({ length: 120 }, (_, i) => start + 1 + i))
  })

  test('gives consumers reading side by side the same events, one a durable one and one not', async () => {
    const durable = recorder('audit')
    const live = recorder('live', false)
    t.app.plinth.events.add(durable.consumer)
    t.app.plinth.events.add(live.consumer)
    await hasCursor('audit')
    const start = await newestSeq(t.app.plinth.dialect.db)
    for (let round = 0; round < 4; round++) await writeNotes(25, `r${round}-`)
    const after = (seen: StoredEvent[]) => seen.filter((event) => event.seq > start).map((event) => event.seq)
    await until(() => after(durable.seen).length >= 100 && after(live.seen).length >= 100)
    const expected = Array.from({ length: 100 }, (_, i) => start + 1 + i)
    expect(after(durable.seen)).toEqual(expected)
    expect(after(live.seen)).toEqual(expected)
  })

  test('hands the same events again while a consumer fails, and skips none', async () => {
    let failuresLeft = 3
    const seen: number[] = []
    t.app.plinth.events.add({
      name: 'flaky',
      durable: true,
      async deliver(events) {
        if (failuresLeft-- > 0) throw new Error('the receiver is down')
        seen.push(...events.map((event) => event.seq))
      },
    })
    await hasCursor('flaky')
    const start = await newestSeq(t.app.plinth.dialect.db)
    await writeNotes(5)
    await until(() => seen.length >= 5, 15_000)
    expect(seen).toEqual([1, 2, 3, 4, 5].map((n) => start + n))
  })

  test('keeps a durable consumer’s place across a restart, and one node delivers at a time', async () => {
    const first = recorder('audit')
    t.app.plinth.events.add(first.consumer)
    await writeNotes(3, 'before')
    await until(() => first.seen.length >= 3)

    const node = await secondNode()
    const second = recorder('audit')
    node.plinth.events.add(second.consumer)
    await writeNotes(4, 'both')
    await until(() => first.seen.length >= 7)
    // The first node holds the lease: the second delivers nothing while it lives.
    expect(second.seen).toEqual([])

    await t.app.plinth.events.stop()
    await writeNotes(5, 'after')
    await until(() => second.seen.length >= 5)
    expect(second.seen.map((event) => event.record.text).sort()).toEqual([
      'after0',
      'after1',
      'after2',
      'after3',
      'after4',
    ])
  })

  test('reads no events for consumers that want none, and moves them past each commit', async () => {
    const skippedTo: number[] = []
    let delivered = 0
    t.app.plinth.events.add({
      name: 'idle',
      durable: false,
      wantsEvents: () => false,
      skipTo: (seq) => skippedTo.push(seq),
      async deliver(events) {
        delivered += events.length
      },
    })
    let reads = 0
    t.app.plinth.dialect.onQuery(({ operation, statement }) => {
      if (operation === 'select' && statement.includes(EVENTS_TABLE) && !/max\(/i.test(statement)) reads++
    })
    const startedAt = Date.now()
    for (let i = 0; i < 40; i++) {
      await t.app.plinth.records.create(superuser, 'notes', { text: `quiet${i}` })
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const newest = await newestSeq(t.app.plinth.dialect.db)
    await until(() => skippedTo.at(-1) === newest)
    const seconds = (Date.now() - startedAt) / 1000
    expect(delivered).toBe(0)
    expect(skippedTo).toEqual([...skippedTo].sort((a, b) => a - b))
    // No realtime client and no webhook endpoint here: only the webhooks' look once a second.
    expect(reads).toBeLessThanOrEqual(Math.ceil(seconds) + 1)
  })

  test('hands a consumer that comes to want events those after the place it was moved to', async () => {
    let wants = false
    const seen: StoredEvent[] = []
    t.app.plinth.events.add({
      name: 'waking',
      durable: true,
      wantsEvents: () => wants,
      async deliver(events) {
        seen.push(...events)
      },
    })
    await hasCursor('waking')
    await writeNotes(3, 'unread')
    const skipped = await newestSeq(t.app.plinth.dialect.db)
    await until(async () => (await recordedPosition(t.app.plinth.dialect.db, 'waking')) === skipped)
    wants = true
    await writeNotes(2, 'read')
    await until(() => seen.length >= 2)
    expect(seen.map((event) => event.record.text).sort()).toEqual(['read0', 'read1'])
    expect(seen.every((event) => event.seq > skipped)).toBe(true)
  })

  test('moves a consumer that wants no events past what another process wrote, at its next poll', async () => {
    const skippedTo: number[] = []
    t.app.plinth.events.add({
      name: 'idle',
      durable: false,
      wantsEvents: () => false,
      skipTo: (seq) => skippedTo.push(seq),
      async deliver() {},
    })
    // Another node's records service: its commits wake only its own dispatcher.
    const node = await secondNode()
    await node.plinth.records.create(superuser, 'notes', { text: 'elsewhere' })
    const newest = await newestSeq(t.app.plinth.dialect.db)
    await until(() => skippedTo.at(-1) === newest)
  })

  test('a node that does not hold a durable consumer asks for it once a second, not at every commit', async () => {
    const first = recorder('audit')
    t.app.plinth.events.add(first.consumer)
    await hasCursor('audit')
    await writeNotes(1, 'held')
    await until(() => first.seen.length >= 1)

    const node = await secondNode()
    let claims = 0
    node.plinth.dialect.onQuery(({ operation, statement }) => {
      if (operation === 'update' && statement.includes('_event_cursors')) claims++
    })
    node.plinth.events.add(recorder('audit').consumer)
    const startedAt = Date.now()
    // Each commit of this node wakes its dispatcher.
    for (let i = 0; i < 40; i++) {
      await node.plinth.records.create(superuser, 'notes', { text: `woken${i}` })
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const seconds = (Date.now() - startedAt) / 1000
    expect(claims).toBeGreaterThanOrEqual(1)
    // Two durable consumers ask: this one and the webhooks'.
    expect(claims).toBeLessThanOrEqual(2 * (Math.ceil(seconds) + 1))
    await until(() => first.seen.length >= 41)
  })

  test('starts a new durable consumer at the newest event rather than replaying the past', async () => {
    await writeNotes(3)
    const { consumer, seen } = recorder('late')
    t.app.plinth.events.add(consumer)
    await hasCursor('late')
    await writeNotes(1, 'new')
    await until(() => seen.length >= 1)
    expect(seen.map((event) => event.record.text)).toEqual(['new0'])
  })

  test('prunes events past the retention once every durable consumer has them, and no sooner', async () => {
    const { db } = t.app.plinth.dialect
    let isDown = true
    t.app.plinth.events.add({
      name: 'stuck',
      durable: true,
      async deliver() {
        if (isDown) throw new Error('down')
      },
    })
    await hasCursor('stuck')
    const start = await newestSeq(db)
    await writeNotes(4)
    await db
      .updateTable(EVENTS_TABLE)
      .set({ time: Date.now() - 8 * 24 * 60 * 60 * 1000 })
      .execute()
    await t.app.plinth.events.prune()
    expect(await readEvents(db, start, 100)).toHaveLength(4)
    isDown = false
    // The consumer may catch up over several batches, each pruned once its cursor is written.
    await until(async () => {
      await t.app.plinth.events.prune()
      return (await readEvents(db, 0, 100)).length === 0
    }, 40_000)
    expect(await readEvents(db, 0, 100)).toEqual([])
  }, 60_000)
})

describe.each(testDialects)('event handlers of a project on %s', (kind) => {
  test('run as jobs for the events they name, at least once each', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    const project = await createProjectApp(
      kind,
      [notes, { name: 'audit', fields: [{ name: 'line', type: 'text' }] }],
      `import { defineConfig } from 'plinth'
export default defineConfig({
  events: {
    async 'notes.create'(event, { records }) {
      await records.asSuperuser().create('audit', { line: event.type + ' ' + event.record.text + ' by ' + event.actor.type })
    },
    async '*.delete'(event, { records }) {
      if (event.collection !== 'audit') await records.asSuperuser().create('audit', { line: 'gone ' + event.recordId })
    },
  },
})
`,
    )
    try {
      project.app.plinth.jobs.start()
      const created = await project.request({
        method: 'POST',
        url: '/api/collections/notes/records',
        auth: null,
        payload: { text: 'hello' },
      })
      expect(created.statusCode, created.body).toBe(201)
      const id = created.json().id
      await project.request({ method: 'DELETE', url: `/api/collections/notes/records/${id}` })
      const lines = async () =>
        (await project.request({ method: 'GET', url: '/api/collections/audit/records?sort=created' }))
          .json()
          .items.map((item: any) => item.line)
      await until(async () => (await lines()).length >= 2, 15_000)
      expect((await lines()).sort()).toEqual([`gone ${id}`, 'record.created hello by anonymous'])
    } finally {
      await project.close()
    }
  })
})
