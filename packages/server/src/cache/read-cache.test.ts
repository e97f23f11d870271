import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { proxySkipReason, type RunningProxy, startProxy } from '../../bench/proxies.js'
import { loadConfig } from '../config/index.js'
import { newestSeq } from '../events/index.js'
import { PASSWORD, passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createTestNodes, testRedisPrefix } from '../test-support/cluster.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { listen } from '../test-support/realtime-blog.js'
import { memcachedSkipReason, serviceSkipReason, startMemcached } from '../test-support/services.js'

/** Hits or misses of the read cache so far, from the node's own metrics. */
async function lookups(t: TestApp, result: 'hit' | 'miss'): Promise<number> {
  const text = (await t.request({ method: 'GET', url: '/api/metrics' })).body
  const line = text
    .split('\n')
    .find((l) => l.startsWith('plinth_cache_lookups_total') && l.includes(`result="${result}"`))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0
}

/** Notes each owner sees alone, and a public board anyone may read. */
async function setUpNotes(t: TestApp) {
  for (const payload of [
    {
      name: 'users',
      type: 'auth',
      createRule: '',
      listRule: 'id = @request.auth.id',
      viewRule: 'id = @request.auth.id',
    },
    {
      name: 'notes',
      listRule: 'owner = @request.auth.id',
      viewRule: 'owner = @request.auth.id',
      createRule: '@request.auth.id != ""',
      fields: [
        { name: 'text', type: 'text' },
        { name: 'owner', type: 'relation', collection: 'users' },
      ],
    },
    { name: 'board', listRule: '', viewRule: '', fields: [{ name: 'text', type: 'text' }] },
    { name: 'fresh', listRule: 'due > @now', viewRule: '', fields: [{ name: 'due', type: 'date' }] },
  ]) {
    const created = await t.request({ method: 'POST', url: '/api/collections', payload })
    expect(created.statusCode, created.body).toBe(201)
  }
  const tokens: Record<string, string> = {}
  const ids: Record<string, string> = {}
  for (const name of ['ann', 'bob']) {
    ids[name] = await signUp(t, `${name}@example.com`)
    tokens[name] = (await passwordSignIn(t, `${name}@example.com`)).json().token
    const note = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      auth: tokens[name],
      payload: { text: `${name}'s secret`, owner: ids[name] },
    })
    expect(note.statusCode, note.body).toBe(201)
  }
  return { tokens, ids }
}

const texts = (response: { json(): any }) => response.json().items.map((item: { text: string }) => item.text)

describe.each(testDialects)('the read cache on %s', (kind) => {
  let t: TestApp
  let tokens: Record<string, string>

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    ;({ tokens } = await setUpNotes(t))
  })
  afterEach(async () => {
    await t?.close()
  })

  const notesOf = (token: string | null) =>
    t.request({ method: 'GET', url: '/api/collections/notes/records', auth: token })

  test('answers a repeated list from the cache, and never one caller’s rows to another', async () => {
    // The writes of the set-up reach the data version through the outbox a moment after they commit.
    await until(async () => {
      const hitsBefore = await lookups(t, 'hit')
      expect(texts(await notesOf(tokens.ann!))).toEqual(["ann's secret"])
      return (await lookups(t, 'hit')) === hitsBefore + 1
    })
    expect(texts(await notesOf(tokens.bob!))).toEqual(["bob's secret"])
    expect(texts(await notesOf(null))).toEqual([])
    expect(texts(await notesOf(t.token))).toEqual(expect.arrayContaining(["ann's secret", "bob's secret"]))
  })

  test('a write is seen by the next read, the writer’s and everyone else’s', async () => {
    await notesOf(tokens.ann!)
    const list = () => t.request({ method: 'GET', url: '/api/collections/board/records', auth: null })
    expect(texts(await list())).toEqual([])
    const posted = await t.request({
      method: 'POST',
      url: '/api/collections/board/records',
      payload: { text: 'hello' },
    })
    expect(posted.statusCode).toBe(201)
    expect(texts(await list())).toEqual(['hello'])
    const edited = await t.request({
      method: 'PATCH',
      url: `/api/collections/board/records/${posted.json().id}`,
      payload: { text: 'hello again' },
    })
    expect(edited.statusCode).toBe(200)
    const view = await t.request({
      method: 'GET',
      url: `/api/collections/board/records/${posted.json().id}`,
      auth: null,
    })
    expect(view.json().text).toBe('hello again')
    expect(texts(await list())).toEqual(['hello again'])
  })

  test('lists carry an ETag and answer 304 to it until the data changes', async () => {
    const list = (headers: Record<string, string> = {}) =>
      t.request({ method: 'GET', url: '/api/collections/board/records', auth: null, headers })
    const first = await list()
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await list({ 'if-none-match': etag })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
    expect(again.headers.etag).toBe(etag)
    await t.request({ method: 'POST', url: '/api/collections/board/records', payload: { text: 'new' } })
    const changed = await list({ 'if-none-match': etag })
    expect(changed.statusCode).toBe(200)
    expect(changed.headers.etag).not.toBe(etag)
    expect(texts(changed)).toEqual(['new'])
  })

  test('only anonymous answers are public, and every answer varies by credentials', async () => {
    const anonymous = await t.request({ method: 'GET', url: '/api/collections/board/records', auth: null })
    expect(anonymous.headers['cache-control']).toBe('public, no-cache')
    const signedIn = await notesOf(tokens.ann!)
    expect(signedIn.headers['cache-control']).toBe('private, no-cache')
    for (const response of [anonymous, signedIn])
      expect(String(response.headers.vary)).toMatch(/Authorization, Cookie/)
    const refused = await t.request({ method: 'GET', url: '/api/collections/notes/records/nope', auth: null })
    expect(refused.statusCode).toBe(404)
    expect(refused.headers['cache-control']).toBeUndefined()
  })

  test('an answer that reads the clock is never kept', async () => {
    const missesBefore = await lookups(t, 'miss')
    const hitsBefore = await lookups(t, 'hit')
    for (let i = 0; i < 2; i++) {
      expect(
        (await t.request({ method: 'GET', url: '/api/collections/fresh/records', auth: null })).statusCode,
      ).toBe(200)
      const filtered = await t.request({
        method: 'GET',
        url: `/api/collections/board/records?filter=${encodeURIComponent('created < @now')}`,
        auth: null,
      })
      expect(filtered.statusCode).toBe(200)
    }
    expect(await lookups(t, 'miss')).toBe(missesBefore)
    expect(await lookups(t, 'hit')).toBe(hitsBefore)
  })

  test('a client asking for a fresh answer gets one; bad queries are refused and not kept', async () => {
    await notesOf(tokens.ann!)
    const hitsBefore = await lookups(t, 'hit')
    const fresh = await t.request({
      method: 'GET',
      url: '/api/collections/notes/records',
      auth: tokens.ann!,
      headers: { 'cache-control': 'no-cache' },
    })
    expect(texts(fresh)).toEqual(["ann's secret"])
    expect(await lookups(t, 'hit')).toBe(hitsBefore)
    for (const query of ['filter=text%20%3D%3D', 'perPage=abc', 'sort=__proto__', 'expand=constructor']) {
      for (let i = 0; i < 2; i++) {
        const bad = await t.request({
          method: 'GET',
          url: `/api/collections/notes/records?${query}`,
          auth: tokens.ann!,
        })
        expect(bad.statusCode, query).toBe(400)
        expect(bad.headers['content-type']).toContain('application/problem+json')
      }
    }
  })
})

test('PLINTH_CACHE=off answers the same, from the database every time', async () => {
  const t = await createTestApp('sqlite', { cache: loadConfig({ PLINTH_CACHE: 'off' }).cache })
  try {
    const { tokens } = await setUpNotes(t)
    for (let i = 0; i < 2; i++)
      expect(
        texts(await t.request({ method: 'GET', url: '/api/collections/notes/records', auth: tokens.bob! })),
      ).toEqual(["bob's secret"])
    expect(await lookups(t, 'hit')).toBe(0)
    expect(await lookups(t, 'miss')).toBe(0)
  } finally {
    await t.close()
  }
})

test('PLINTH_HTTP_MAX_AGE lets caches in front keep anonymous answers, not clock-bound ones', async () => {
  const t = await createTestApp('sqlite', { cache: loadConfig({ PLINTH_HTTP_MAX_AGE: '30' }).cache })
  try {
    await setUpNotes(t)
    const board = await t.request({ method: 'GET', url: '/api/collections/board/records', auth: null })
    expect(board.headers['cache-control']).toBe('public, max-age=30')
    const fresh = await t.request({ method: 'GET', url: '/api/collections/fresh/records', auth: null })
    expect(fresh.headers['cache-control']).toBe('public, no-cache')
  } finally {
    await t.close()
  }
  expect(() => loadConfig({ PLINTH_CACHE: 'maybe' })).toThrow(/PLINTH_CACHE/)
  expect(() => loadConfig({ PLINTH_HTTP_MAX_AGE: '-1' })).toThrow(/PLINTH_HTTP_MAX_AGE/)
})

describe.each(testDialects)('what a full read cache keeps, on %s', (kind) => {
  let t: TestApp
  let ids: string[] = []
  // Room for about twenty answers of a board record (a key and an entry, two bytes a character).
  const cache = { enabled: true, ttlSeconds: 300, maxBytes: 20 * 600, httpMaxAge: 0 }

  const view = (id: string) =>
    t.request({ method: 'GET', url: `/api/collections/board/records/${id}`, auth: null })
  /** Hits while reading `records` once each, in order. */
  async function hitsReading(records: string[]): Promise<number> {
    const before = await lookups(t, 'hit')
    for (const id of records) expect((await view(id)).statusCode).toBe(200)
    return (await lookups(t, 'hit')) - before
  }
  /** The ids of `count` new board records. */
  async function post(count: number, prefix: string): Promise<string[]> {
    const posted: string[] = []
    for (let i = 0; i < count; i++) {
      const made = await t.request({
        method: 'POST',
        url: '/api/collections/board/records',
        payload: { text: `${prefix} ${i}` },
      })
      expect(made.statusCode).toBe(201)
      posted.push(made.json().id)
    }
    return posted
  }
  /** Until the data version has caught up with the writes, which reach it through the outbox. */
  const settled = () =>
    until(async () => t.app.plinth.readCache.dataVersion === `s${await newestSeq(t.app.plinth.dialect.db)}`)

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, { cache })
    const made = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'board', listRule: '', viewRule: '', fields: [{ name: 'text', type: 'text' }] },
    })
    expect(made.statusCode, made.body).toBe(201)
    ids = await post(60, 'note')
    await settled()
  })
  afterEach(async () => {
    await t?.close()
  })

  test('reads that go round more records than fit keep a fixed part, and answer it', async () => {
    await hitsReading(ids)
    // Least recently used first out would keep nothing here: each read pushes out the next one asked for.
    const second = await hitsReading(ids)
    expect(second).toBeGreaterThanOrEqual(10)
    expect(await hitsReading(ids)).toBe(second)
  })

  test('a record read often is not pushed out by a scan of records read once', async () => {
    const hot = ids[59]!
    for (let i = 0; i < 5; i++) await view(hot)
    await hitsReading(ids.slice(0, 59))
    expect(await hitsReading([hot])).toBe(1)
  })

  test('after writes, new answers take the places of those they made stale, however often those were read', async () => {
    const often = ids.slice(0, 20)
    for (let round = 0; round < 5; round++) await hitsReading(often)
    const fresh = await post(20, 'fresh')
    await settled()
    await hitsReading(fresh)
    expect(await hitsReading(fresh)).toBe(fresh.length)
  })
})

describe('the read cache shared by nodes through Redis', () => {
  let nodes: TestApp[] = []
  let skipReason = ''
  beforeAll(async () => {
    skipReason = (shouldSkip('postgres') && postgresSkipReason()) || (await serviceSkipReason('redis'))
  })
  beforeEach(async (context) => {
    if (skipReason) context.skip(skipReason)
    const cluster = loadConfig({
      PLINTH_REDIS_URL: 'redis://127.0.0.1:6379',
      PLINTH_REDIS_PREFIX: testRedisPrefix(),
    }).cluster
    nodes = await createTestNodes('postgres', 2, { cluster })
    await setUpNotes(nodes[0]!)
  })
  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.close()
  })

  test('an answer kept by one node is served by another, and a write on either makes it stale on both', async () => {
    const [first, second] = nodes as [TestApp, TestApp]
    const board = (node: TestApp) =>
      node.request({ method: 'GET', url: '/api/collections/board/records', auth: null })
    // Both nodes read the same data version once the second has read the outbox the first wrote.
    await until(async () => {
      await board(first)
      const hits = await lookups(second, 'hit')
      await board(second)
      return (await lookups(second, 'hit')) === hits + 1
    })
    const posted = await first.request({
      method: 'POST',
      url: '/api/collections/board/records',
      payload: { text: 'hi' },
    })
    expect(posted.statusCode).toBe(201)
    await until(async () => texts(await board(second)).includes('hi'), 1000)
    const deleted = await second.request({
      method: 'DELETE',
      url: `/api/collections/board/records/${posted.json().id}`,
    })
    expect(deleted.statusCode).toBe(204)
    expect(texts(await board(second))).toEqual([])
    await until(async () => texts(await board(first)).length === 0, 1000)
  })
})

describe('the read cache in memcached', () => {
  let t: TestApp | undefined
  let memcached: Awaited<ReturnType<typeof startMemcached>> | undefined
  afterEach(async () => {
    await t?.close()
    memcached?.stop()
  })

  test('keeps answers there and in the process, and answers from either while memcached is away', async (context) => {
    const skipReason = memcachedSkipReason()
    if (skipReason) return context.skip(skipReason)
    memcached = await startMemcached()
    t = await createTestApp('sqlite', {
      cluster: loadConfig({ PLINTH_MEMCACHED_URL: memcached.servers }).cluster,
    })
    const { tokens } = await setUpNotes(t)
    const app = t
    const notes = () =>
      app.request({ method: 'GET', url: '/api/collections/notes/records', auth: tokens.ann! })
    await until(async () => {
      const hits = await lookups(app, 'hit')
      expect(texts(await notes())).toEqual(["ann's secret"])
      return (await lookups(app, 'hit')) === hits + 1
    })
    memcached.stop()
    // The node kept its own copy of what it read: the same answer, with no round trip to memcached.
    const hitsBefore = await lookups(app, 'hit')
    expect(texts(await notes())).toEqual(["ann's secret"])
    expect(await lookups(app, 'hit')).toBe(hitsBefore + 1)
    const posted = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      auth: tokens.ann!,
      payload: {
        text: 'while away',
        owner: (
          await t.request({ method: 'GET', url: '/api/collections/users/records', auth: tokens.ann! })
        ).json().items[0].id,
      },
    })
    expect(posted.statusCode, posted.body).toBe(201)
    expect(texts(await notes()).sort()).toEqual(["ann's secret", 'while away'])
  })
})

describe("nginx's cache in front, configured as deploy/nginx/plinth.conf ships it", () => {
  let t: TestApp | undefined
  let nginx: RunningProxy | undefined
  afterEach(async () => {
    await nginx?.stop()
    await t?.close()
  })

  test('keeps public answers only, and never serves one caller’s answer to another', async (context) => {
    const skipReason = proxySkipReason('nginx')
    if (skipReason) return context.skip(skipReason)
    t = await createTestApp('sqlite', { cache: loadConfig({ PLINTH_HTTP_MAX_AGE: '60' }).cache })
    const { tokens } = await setUpNotes(t)
    const base = await listen(t)
    nginx = await startProxy('nginx', [base.slice('http://'.length)])
    const through = async (path: string, headers: Record<string, string> = {}) => {
      const response = await fetch(`${nginx!.url}/api/collections/${path}`, { headers })
      const body = (await response.json()) as { items?: { text: string }[] }
      return {
        status: response.status,
        cache: response.headers.get('x-cache-status'),
        texts: (body.items ?? []).map((item) => item.text),
      }
    }
    const bearer = (name: string) => ({ authorization: `Bearer ${tokens[name]}` })
    const board = await t.request({
      method: 'POST',
      url: '/api/collections/board/records',
      payload: { text: 'up' },
    })
    expect(board.statusCode).toBe(201)

    // An anonymous answer is kept and served again without reaching Plinth.
    expect(await through('board/records')).toMatchObject({ status: 200, cache: 'MISS', texts: ['up'] })
    expect(await through('board/records')).toMatchObject({ status: 200, cache: 'HIT', texts: ['up'] })
    // A signed-in caller asking the same URL is not given the kept public answer, and its own is not kept.
    for (let i = 0; i < 2; i++) {
      expect(await through('notes/records', bearer('ann'))).toMatchObject({ texts: ["ann's secret"] })
      expect(await through('notes/records', bearer('bob'))).toMatchObject({ texts: ["bob's secret"] })
    }
    expect(await through('notes/records')).toMatchObject({ cache: 'MISS', texts: [] })
    expect(await through('notes/records')).toMatchObject({ cache: 'HIT', texts: [] })
    for (const name of ['ann', 'bob']) {
      const own = await through('notes/records', bearer(name))
      expect(own).toMatchObject({ texts: [`${name}'s secret`] })
      expect(own.cache).not.toBe('HIT')
    }

    // Nor is a caller signed in by cookie, whose request carries no Authorization at all.
    const signIn = await fetch(`${nginx.url}/api/collections/users/auth-with-password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-plinth-auth': 'cookie' },
      body: JSON.stringify({ identity: 'ann@example.com', password: PASSWORD }),
    })
    expect(signIn.status).toBe(200)
    const cookie = signIn.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ')
    expect(cookie).toContain('plinth_token=')
    for (let i = 0; i < 2; i++) {
      const own = await through('notes/records', { cookie })
      expect(own).toMatchObject({ status: 200, texts: ["ann's secret"] })
      expect(own.cache).not.toBe('HIT')
    }

    // An answer that depends on the clock is revalidated every time.
    for (let i = 0; i < 2; i++) expect((await through('fresh/records')).cache).not.toBe('HIT')
  })
})
