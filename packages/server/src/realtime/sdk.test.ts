import { EventSource } from 'eventsource'
import PocketBase, { type RecordSubscription } from 'pocketbase'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { listen, setupRealtimeBlog, write } from '../test-support/realtime-blog.js'

const POSTS = '/api/collections/posts/records'

beforeAll(() => {
  // Node 20 has no EventSource; the SDK uses the global one, as in a browser.
  globalThis.EventSource ??= EventSource as unknown as typeof globalThis.EventSource
})

describe.each(testDialects)('the PocketBase JS SDK against realtime on %s', (kind) => {
  let t: TestApp
  let base: string
  let pb: PocketBase | undefined

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    base = await listen(t)
  })
  afterEach(async () => {
    pb?.realtime.unsubscribe().catch(() => {})
    pb = undefined
    await t?.close()
  })

  test('subscribe("*") with filter and expand, subscribe(id), and unsubscribe work unchanged', async () => {
    const { alice } = await setupRealtimeBlog(t)
    pb = new PocketBase(base)
    pb.autoCancellation(false)
    const me = await pb.collection('users').authWithPassword(alice.email, 'user password 1')
    expect(me.record.id).toBe(alice.id)

    const all: RecordSubscription[] = []
    const one: RecordSubscription[] = []
    await pb.collection('posts').subscribe('*', (event) => all.push(event), {
      filter: 'title ~ "news"',
      expand: 'owner',
    })
    const first = await write(t, 'POST', POSTS, alice.token, { title: 'news one', owner: alice.id })
    await pb.collection('posts').subscribe(first.id, (event) => one.push(event))
    await write(t, 'POST', POSTS, alice.token, { title: 'gossip', owner: alice.id })
    await write(t, 'PATCH', `${POSTS}/${first.id}`, alice.token, { title: 'news one, updated' })
    await until(() => all.length === 2 && one.length === 1, 5000)

    expect(all.map((event) => [event.action, event.record.title])).toEqual([
      ['create', 'news one'],
      ['update', 'news one, updated'],
    ])
    expect(all[0]!.record.expand?.owner).toMatchObject({ id: alice.id, email: alice.email })
    expect(all[0]!.record).not.toHaveProperty('secret')
    expect(one.map((event) => [event.action, event.record.id])).toEqual([['update', first.id]])

    await pb.collection('posts').unsubscribe('*')
    await write(t, 'POST', POSTS, alice.token, { title: 'news two', owner: alice.id })
    await write(t, 'DELETE', `${POSTS}/${first.id}`, alice.token)
    await until(() => one.length === 2, 5000)
    expect(one[1]).toMatchObject({ action: 'delete', record: { id: first.id } })
    expect(all).toHaveLength(2)

    await pb.collection('posts').unsubscribe()
    expect(pb.realtime.isConnected).toBe(false)
  })
})
