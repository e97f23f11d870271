import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { proxySkipReason, type RunningProxy, startProxy } from '../../bench/proxies.js'
import { upsertSuperuser } from '../auth/index.js'
import { loadConfig } from '../config/index.js'
import { createCore } from '../core/index.js'
import { testRedisPrefix } from '../test-support/cluster.js'
import { freshPostgresUrl, postgresSkipReason, shouldSkip } from '../test-support/databases.js'
import { writeProjectConfig } from '../test-support/project.js'
import { openStream, type SseStream, setSubscriptions } from '../test-support/realtime.js'
import { freePort, type ServerProcess, startServer } from '../test-support/server-process.js'
import { serviceSkipReason, serviceUrls } from '../test-support/services.js'

const SECRET = 'cluster-test-secret-cluster-test-secret-1'
const SUPERUSER = { identity: 'root@example.com', password: 'cluster password 1' }
const PASSWORD = 'member password 1'

// Each order enqueues a job; every job and cron tick leaves a record
// naming the node that ran it.
const project = `
export default {
  hooks: {
    orders: {
      async afterCreate({ record, jobs }) {
        await jobs.enqueue('fulfil', { order: record.id })
      },
    },
  },
  jobs: {
    async fulfil({ order }, { records, job }) {
      await records.create('runs', { order, job: job.id, node: process.env.PLINTH_NODE_ID })
    },
    async tick(_payload, { records, job }) {
      await records.create('runs', { order: 'tick', job: job.id, node: process.env.PLINTH_NODE_ID })
    },
  },
  cron: [{ name: 'every-second', schedule: '* * * * * *', job: 'tick' }],
}
`

interface Answer {
  status: number
  body: any
}

type Request = [path: string, options?: Parameters<typeof call>[2]]

/** One request; `from` is the client's address as the proxy forwards it. */
async function call(
  base: string,
  path: string,
  options: { method?: string; token?: string; body?: unknown; from?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  if (options.token) headers.authorization = `Bearer ${options.token}`
  // The test runs on the proxies' own address, which the nodes trust: the address it names
  // is taken as the client's, as the proxy's own would be for a client elsewhere.
  if (options.from) headers['x-forwarded-for'] = options.from
  const response = await fetch(`${base}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  const text = await response.text()
  const isJson = response.headers.get('content-type')?.includes('json')
  return { status: response.status, body: isJson ? JSON.parse(text) : text }
}

/** Polls `check` until it holds; fails after `within` ms. */
async function within(ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function signIn(base: string, collection: string, identity: string, password: string) {
  const answer = await call(base, `/api/collections/${collection}/auth-with-password`, {
    body: { identity, password },
  })
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  return answer.body as { token: string; record: { id: string } }
}

/** A realtime stream opened through `base`, subscribed through it to every note the token's user may list. */
async function notesStream(base: string, token: string): Promise<SseStream> {
  const stream = await openStream(base, { authorization: `Bearer ${token}` })
  const subscribed = await setSubscriptions(
    base,
    { clientId: stream.clientId, subscriptions: ['notes/*'] },
    token,
  )
  if (subscribed.status !== 204) stream.close()
  expect(subscribed.status, JSON.stringify(subscribed.body)).toBe(204)
  return stream
}

/**
 * Clients sending requests in a loop through `base` until stopped, each request one of
 * `requests` in turn. Every answer is kept, and the ids of acknowledged creates.
 */
function steadyLoad(base: string, clients: number, requests: (n: number) => Request) {
  const answers: { status: number; path: string }[] = []
  const created: string[] = []
  let running = true
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let n = client; running; n += clients) {
      const [path, options] = requests(n)
      try {
        const answer = await call(base, path, options)
        answers.push({ status: answer.status, path })
        if (answer.status === 201) created.push(answer.body.id)
      } catch (error) {
        answers.push({ status: 0, path: `${path}: ${(error as Error).message}` })
      }
    }
  })
  return {
    answers,
    created,
    async stop() {
      running = false
      await Promise.all(loops)
    },
  }
}

describe('three Plinth nodes on PostgreSQL and Redis behind nginx and HAProxy', () => {
  let skipReason = ''
  let database: Awaited<ReturnType<typeof freshPostgresUrl>> | undefined
  let dataDir = ''
  let config: { file: string; remove(): void } | undefined
  const ports: number[] = []
  const nodes: ServerProcess[] = []
  const urls: string[] = []
  let nginx: RunningProxy | undefined
  let haproxy: RunningProxy | undefined
  let env: Record<string, string> = {}
  let root = ''
  const members: Record<string, { token: string; id: string }> = {}

  const startNode = (i: number) =>
    startServer(
      ['--config', config!.file, '--dir', dataDir, '--database-url', database!.url],
      { ...env, PLINTH_NODE_ID: `node-${i + 1}` },
      undefined,
      ports[i],
    )

  beforeAll(async () => {
    skipReason =
      (shouldSkip('postgres') && postgresSkipReason()) ||
      (await serviceSkipReason('redis')) ||
      proxySkipReason('nginx') ||
      proxySkipReason('haproxy')
    if (skipReason) return
    database = await freshPostgresUrl()
    dataDir = mkdtempSync(join(tmpdir(), 'plinth-cluster-'))
    const core = await createCore(
      loadConfig({}, { dataDir, databaseUrl: database.url, secret: SECRET, logLevel: 'silent' }),
    )
    try {
      await core.collections.create({
        name: 'users',
        type: 'auth',
        fields: [],
        viewRule: 'id = @request.auth.id',
      })
      await core.collections.create({
        name: 'notes',
        fields: [
          { name: 'text', type: 'text' },
          { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
        ],
        listRule: 'owner = @request.auth.id',
        viewRule: 'owner = @request.auth.id',
      })
      await core.collections.create({ name: 'orders', fields: [{ name: 'item', type: 'text' }] })
      await core.collections.create({
        name: 'runs',
        fields: [
          { name: 'order', type: 'text' },
          { name: 'job', type: 'text' },
          { name: 'node', type: 'text' },
        ],
      })
      await core.collections.create({ name: 'writes', fields: [{ name: 'n', type: 'number' }] })
      await upsertSuperuser(core.records, SUPERUSER.identity, SUPERUSER.password)
    } finally {
      await core.close()
    }
    config = writeProjectConfig(project)
    for (let i = 0; i < 3; i++) ports.push(await freePort())
    const upstreams = ports.map((port) => `127.0.0.1:${port}`)
    nginx = await startProxy('nginx', upstreams)
    haproxy = await startProxy('haproxy', upstreams)
    env = {
      PLINTH_SECRET: SECRET,
      PLINTH_REDIS_URL: serviceUrls.redis,
      PLINTH_REDIS_PREFIX: testRedisPrefix(),
      // Tokens name their issuer: every node issues them as the one public address.
      PLINTH_PUBLIC_URL: nginx.url,
      PLINTH_TRUSTED_PROXIES: '127.0.0.1',
      PLINTH_LOG_LEVEL: 'warn',
      PLINTH_JOBS_POLL_INTERVAL_MS: '50',
    }
    nodes.push(...(await Promise.all([0, 1, 2].map(startNode))))
    urls.push(...nodes.map((node) => node.url))
    root = (await signIn(nginx.url, '_superusers', SUPERUSER.identity, SUPERUSER.password)).token
    for (const name of ['ann', 'bob', 'cid']) {
      const email = `${name}@example.com`
      const made = await call(nginx.url, '/api/collections/users/records', {
        token: root,
        body: { email, password: PASSWORD, passwordConfirm: PASSWORD },
      })
      expect(made.status, JSON.stringify(made.body)).toBe(201)
      const { token, record } = await signIn(nginx.url, 'users', email, PASSWORD)
      members[name] = { token, id: record.id }
    }
  })

  beforeEach((context) => {
    if (skipReason) context.skip(skipReason)
  })

  afterAll(async () => {
    for (const node of nodes) {
      node.child.kill('SIGKILL')
      await node.exited
    }
    await nginx?.stop()
    await haproxy?.stop()
    await database?.drop()
    config?.remove()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  test('a session made on one node works on the others, and its sign-out reaches them within a second', async () => {
    const [a, b, c] = urls as [string, string, string]
    const { token } = await signIn(a, 'users', 'cid@example.com', PASSWORD)
    for (const node of [b, c]) expect((await call(node, '/api/auth/sessions', { token })).status).toBe(200)
    expect((await call(a, '/api/collections/users/auth-logout', { method: 'POST', token })).status).toBe(204)
    await within(1000, async () => (await call(c, '/api/auth/sessions', { token })).status === 401)
    expect((await call(b, '/api/auth/sessions', { token })).status).toBe(401)
  })

  test('a client has one rate limit and an identity one lockout across the nodes', async () => {
    // The sign-in and reset actions allow 30 a minute per client address.
    const reset = (base: string, from: string) =>
      call(base, '/api/collections/users/request-password-reset', {
        body: { email: 'nobody@example.com' },
        from,
      })
    for (let i = 0; i < 30; i++) expect((await reset(nginx!.url, '198.51.100.1')).status).toBe(204)
    for (const node of urls) expect((await reset(node, '198.51.100.1')).status).toBe(429)
    expect((await reset(nginx!.url, '198.51.100.2')).status).toBe(204)

    // Ten failures for one identity lock it on every node, from any address.
    for (let i = 0; i < 10; i++) {
      const failed = await call(urls[i % 3]!, '/api/collections/users/auth-with-password', {
        body: { identity: 'bob@example.com', password: 'not the password' },
        from: `198.51.100.${10 + i}`,
      })
      expect(failed.status).toBe(400)
    }
    for (const node of urls) {
      const locked = await call(node, '/api/collections/users/auth-with-password', {
        body: { identity: 'bob@example.com', password: PASSWORD },
        from: '198.51.100.30',
      })
      expect(locked.status).toBe(429)
    }
  })

  test('a realtime stream through nginx hears writes made on every node, as the list rule allows', async () => {
    const ann = members.ann!
    // Through nginx the subscription may reach another node than the one holding the stream.
    const stream = await notesStream(nginx!.url, ann.token)
    try {
      for (const [i, node] of urls.entries()) {
        const secret = await call(node, '/api/collections/notes/records', {
          token: root,
          body: { text: `bob's ${i}`, owner: members.bob!.id },
        })
        expect(secret.status).toBe(201)
        const mine = await call(node, '/api/collections/notes/records', {
          token: root,
          body: { text: `ann's ${i}`, owner: ann.id },
        })
        expect(mine.status).toBe(201)
      }
      // Events arrive in commit order: bob's notes, written first, would have come before.
      await stream.until((messages) => messages.filter((m) => m.event === 'notes/*').length >= 3, 5_000)
      expect(stream.events('notes/*').map((event) => event.record.text)).toEqual([
        "ann's 0",
        "ann's 1",
        "ann's 2",
      ])
    } finally {
      stream.close()
    }
  })

  test('a subscription sent to another node than the stream holder is refused as the holder would refuse it', async () => {
    const [a, , c] = urls as [string, string, string]
    const { ann, bob } = members as Record<string, { token: string }>
    const stream = await openStream(c, { authorization: `Bearer ${ann!.token}` })
    try {
      const subscribe = (body: unknown, token: string) => setSubscriptions(a, body, token)
      const unknown = await subscribe({ clientId: stream.clientId, subscriptions: ['nothing/*'] }, ann!.token)
      expect(unknown.status).toBe(400)
      expect(unknown.contentType).toContain('application/problem+json')
      expect(
        (await subscribe({ clientId: stream.clientId, subscriptions: ['notes/*'] }, ann!.token)).status,
      ).toBe(204)
      expect((await subscribe({ clientId: stream.clientId, subscriptions: [] }, bob!.token)).status).toBe(403)
      expect(
        (await subscribe({ clientId: `${stream.clientId}x`, subscriptions: [] }, ann!.token)).status,
      ).toBe(404)
    } finally {
      stream.close()
    }
  })

  test('HAProxy forwards the client address and streams realtime events as they happen', async () => {
    const ann = members.ann!
    for (let i = 0; i < 30; i++) {
      const reset = await call(haproxy!.url, '/api/collections/users/request-password-reset', {
        body: { email: 'nobody@example.com' },
        from: '203.0.113.5',
      })
      expect(reset.status).toBe(204)
    }
    const limited = await call(nginx!.url, '/api/collections/users/request-password-reset', {
      body: { email: 'nobody@example.com' },
      from: '203.0.113.5',
    })
    expect(limited.status).toBe(429)
    const stream = await notesStream(haproxy!.url, ann.token)
    try {
      const note = await call(urls[0]!, '/api/collections/notes/records', {
        token: root,
        body: { text: 'through HAProxy', owner: ann.id },
      })
      expect(note.status).toBe(201)
      await stream.until((messages) => messages.some((m) => m.event === 'notes/*'), 5_000)
      expect(stream.events('notes/*').map((event) => event.record.id)).toEqual([note.body.id])
    } finally {
      stream.close()
    }
  })

  test('a collection made on one node is served by the others within a second', async () => {
    const [a, b, c] = urls as [string, string, string]
    const made = await call(a, '/api/collections', {
      token: root,
      body: { name: 'tasks', listRule: '', fields: [{ name: 'title', type: 'text' }] },
    })
    expect(made.status, JSON.stringify(made.body)).toBe(201)
    for (const node of [b, c])
      await within(1000, async () => (await call(node, '/api/collections/tasks/records')).status === 200)
  })

  test('cron ticks once per second across the nodes, and every job runs exactly once', async () => {
    const orders = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call(nginx!.url, '/api/collections/orders/records', { token: root, body: { item: `item ${i}` } }),
      ),
    )
    expect(orders.map((order) => order.status)).toEqual(orders.map(() => 201))
    // A tick runs every second from the nodes' start: asked for apart, so they never crowd out the orders.
    const runsOf = async (filter: string) =>
      (
        await call(
          nginx!.url,
          `/api/collections/runs/records?perPage=500&skipTotal=1&sort=-created&filter=${encodeURIComponent(filter)}`,
          { token: root },
        )
      ).body.items as { order: string; job: string; node: string }[]
    // The read that saw them all: another node's cached list may still be a moment behind it.
    let fulfilled: Awaited<ReturnType<typeof runsOf>> = []
    await within(10_000, async () => {
      fulfilled = await runsOf('order != "tick"')
      return fulfilled.length >= 30
    })
    const runs = [...fulfilled, ...(await runsOf('order = "tick"'))]
    expect(fulfilled.map((run) => run.order).sort()).toEqual(orders.map((order) => order.body.id).sort())
    expect(new Set(runs.map((run) => run.job)).size).toBe(runs.length)
    const ticks = (await call(nginx!.url, '/api/jobs?name=tick&perPage=500', { token: root })).body.items as {
      uniqueKey: string
    }[]
    expect(ticks.length).toBeGreaterThanOrEqual(2)
    expect(new Set(ticks.map((tick) => tick.uniqueKey)).size).toBe(ticks.length)
    expect(new Set(runs.map((run) => run.node)).size).toBeGreaterThan(1)
  })

  test('a node killed (SIGKILL) under a write load through nginx loses no acknowledged write', async () => {
    const load = steadyLoad(nginx!.url, 8, (n) => [
      '/api/collections/writes/records',
      { token: root, body: { n } },
    ])
    await within(20_000, async () => load.created.length >= 150)
    nodes[2]!.child.kill('SIGKILL')
    await nodes[2]!.exited
    const before = load.created.length
    await within(20_000, async () => load.created.length >= before + 150)
    await load.stop()
    nodes[2] = await startNode(2)
    const stored = new Set<string>()
    for (let page = 1; ; page++) {
      const list = await call(
        nginx!.url,
        `/api/collections/writes/records?perPage=500&page=${page}&fields=id`,
        {
          token: root,
        },
      )
      for (const item of list.body.items) stored.add(item.id)
      if (page >= list.body.totalPages) break
    }
    expect(load.created.filter((id) => !stored.has(id))).toEqual([])
  })

  test('a rolling restart under a steady load drops no request through nginx or HAProxy', {
    timeout: 60_000,
  }, async () => {
    const { id } = (
      await call(nginx!.url, '/api/collections/orders/records', { token: root, body: { item: 'kept' } })
    ).body
    const requests = (n: number): Request => {
      if (n % 3 === 0) return ['/api/collections/writes/records', { token: root, body: { n } }]
      if (n % 3 === 1) return [`/api/collections/orders/records/${id}`, { token: root }]
      return ['/api/collections/writes/records?perPage=5&sort=-created&skipTotal=1', { token: root }]
    }
    const loads = [steadyLoad(nginx!.url, 4, requests), steadyLoad(haproxy!.url, 4, requests)]
    const served = () => loads.map((load) => load.answers.length)
    for (let i = 0; i < 3; i++) {
      const before = served()
      nodes[i]!.child.kill('SIGTERM')
      expect(await nodes[i]!.exited).toBe(0)
      nodes[i] = await startNode(i)
      // Each proxy must have sent requests on before the next node goes.
      await within(10_000, async () => served().every((count, j) => count > before[j]! + 50))
    }
    for (const load of loads) await load.stop()
    for (const [j, load] of loads.entries()) {
      const failed = load.answers.filter((answer) => answer.status !== 200 && answer.status !== 201)
      expect(failed, j === 0 ? nginx!.logs() : haproxy!.logs()).toEqual([])
      expect(load.answers.length).toBeGreaterThan(150)
    }
  })
})
