import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createApp } from '../http/index.js'
import { signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { createProjectApp, writeProjectConfig } from '../test-support/project.js'
import { startServer } from '../test-support/server-process.js'

const notes = {
  name: 'notes',
  type: 'base',
  fields: [
    { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
    { name: 'text', type: 'text' },
  ],
  listRule: 'owner = @request.auth.id',
  viewRule: 'owner = @request.auth.id',
  createRule: '@request.auth.id != ""',
}
const users = {
  name: 'users',
  type: 'auth',
  fields: [{ name: 'nickname', type: 'text' }],
  createRule: '',
  viewRule: 'id = @request.auth.id',
}

const routesSource = `
import { defineConfig, HookError } from 'plinth'
export default defineConfig({
  hooks: {
    users: {
      beforeCreate({ record }) {
        if (!record.nickname) record.nickname = String(record.email).split('@')[0]
      },
    },
  },
  routes: [
    { method: 'GET', path: '/api/whoami', handler: ({ caller }) => ({ id: caller.auth?.record.id ?? null, isSuperuser: caller.isSuperuser }) },
    { method: 'GET', path: '/api/notes/:id/text', async handler({ params, records }) {
        const note = await records.view('notes', params.id)
        return { text: note.text }
      } },
    { method: 'GET', path: '/api/notes/:id/admin-text', async handler({ params, records, caller }) {
        if (!caller.auth) throw new HookError(401, 'Sign in first.')
        return { text: (await records.asSuperuser().view('notes', params.id)).text }
      } },
    { method: 'POST', path: '/api/echo', handler: ({ body }) => ({ got: body }) },
    { method: 'DELETE', path: '/api/nothing', handler: () => undefined },
  ],
})
`

describe.each(testDialects)('project routes and auth hooks on %s', (kind) => {
  let t: TestApp
  let aliceToken = ''
  let noteId = ''
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createProjectApp(kind, [users, notes], routesSource)
    const aliceId = await signUp(t, 'alice@example.com')
    const signIn = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      auth: null,
      payload: { identity: 'alice@example.com', password: 'user password 1' },
    })
    aliceToken = signIn.json().token
    const note = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      auth: aliceToken,
      payload: { owner: aliceId, text: 'secret plans' },
    })
    noteId = note.json().id
  })
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterAll(async () => t?.close())

  test('a sign-up runs the auth collection before-hook', async () => {
    await signUp(t, 'bob.builder@example.com')
    const found = await t.request({
      method: 'GET',
      url: '/api/collections/users/records?filter=email="bob.builder@example.com"',
    })
    expect(found.json().items[0].nickname).toBe('bob.builder')
  })

  test('a route sees the caller the request signed in as', async () => {
    expect((await t.request({ method: 'GET', url: '/api/whoami', auth: null })).json()).toEqual({
      id: null,
      isSuperuser: false,
    })
    expect((await t.request({ method: 'GET', url: '/api/whoami' })).json().isSuperuser).toBe(true)
    const alice = (await t.request({ method: 'GET', url: '/api/whoami', auth: aliceToken })).json()
    expect(alice.id).toMatch(/^[0-9a-f-]{36}$/)
  })

  test('records in a route act as the caller: the rules apply', async () => {
    const owner = await t.request({ method: 'GET', url: `/api/notes/${noteId}/text`, auth: aliceToken })
    expect(owner.json()).toEqual({ text: 'secret plans' })
    const anonymous = await t.request({ method: 'GET', url: `/api/notes/${noteId}/text`, auth: null })
    expect(anonymous.statusCode).toBe(404)
    expect(anonymous.headers['content-type']).toContain('application/problem+json')
  })

  test('asSuperuser() is the explicit way past the rules; HookError refuses', async () => {
    const refused = await t.request({ method: 'GET', url: `/api/notes/${noteId}/admin-text`, auth: null })
    expect(refused.statusCode).toBe(401)
    expect(refused.json().type).toBe('urn:plinth:error:refused')
    const bob = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      auth: null,
      payload: { identity: 'bob.builder@example.com', password: 'user password 1' },
    })
    const other = await t.request({
      method: 'GET',
      url: `/api/notes/${noteId}/admin-text`,
      auth: bob.json().token,
    })
    expect(other.json()).toEqual({ text: 'secret plans' })
  })

  test('routes take the same bad input as Plinth’s own, answered as problems', async () => {
    const malformed = await t.request({
      method: 'POST',
      url: '/api/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    })
    expect(malformed.statusCode).toBe(400)
    expect(malformed.json().type).toBe('urn:plinth:error:malformed_json')
    const hostile = await t.request({
      method: 'POST',
      url: '/api/echo',
      payload: { __proto__: { polluted: 1 }, constructor: 'x' },
    })
    expect(hostile.statusCode).toBe(200)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    for (const id of ['__proto__', 'constructor', "' or 1=1 --", 'x'.repeat(150)]) {
      const response = await t.request({
        method: 'GET',
        url: `/api/notes/${encodeURIComponent(id)}/text`,
        auth: aliceToken,
      })
      expect(response.statusCode).toBe(404)
    }
    expect((await t.request({ method: 'DELETE', url: '/api/nothing' })).statusCode).toBe(204)
  })
})

describe('a project config that cannot be used stops start-up with the file, the line and the reason', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await createTestApp('sqlite')
    await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'orders', fields: [{ name: 'n', type: 'number' }] },
    })
  })
  afterAll(async () => t?.close())

  const cases = [
    {
      name: 'a syntax error',
      source: 'export default {\n  hooks: {\n    orders: {\n      beforeCreate( {\n  }\n}\n',
      expected: /plinth\.config\.ts:\d+: .*(Unexpected|expected)/,
    },
    {
      name: 'an unknown hook name',
      source: 'export default {\n  hooks: {\n    orders: {\n      beforeCreat() {},\n    },\n  },\n}\n',
      expected: /plinth\.config\.ts:4: unknown hook "beforeCreat" on "orders"/,
    },
    {
      name: 'an unknown collection',
      source: 'export default {\n  hooks: {\n    ordres: { beforeCreate() {} },\n  },\n}\n',
      expected: /plinth\.config\.ts:3: hooks name the collection "ordres", which does not exist/,
    },
    {
      name: 'an unknown key',
      source: 'export default {\n  hook: {},\n}\n',
      expected: /plinth\.config\.ts:2: unknown key "hook"/,
    },
    {
      name: 'a route without a handler',
      source: "export default {\n  routes: [\n    { method: 'GET', path: '/api/x' },\n  ],\n}\n",
      expected: /plinth\.config\.ts:3: the route GET \/api\/x needs a handler function/,
    },
    {
      name: 'an event handler for an unknown action',
      source: "export default {\n  events: {\n    'orders.created'() {},\n  },\n}\n",
      expected: /plinth\.config\.ts:3: events: "orders\.created" ends in "created"/,
    },
    {
      name: 'an event handler without an action',
      source: 'export default {\n  events: {\n    orders() {},\n  },\n}\n',
      expected: /plinth\.config\.ts:3: events: "orders" should be <collection>\.<action>/,
    },
    {
      name: 'an event handler for an unknown collection',
      source: "export default {\n  events: {\n    'ordres.*'() {},\n  },\n}\n",
      expected: /plinth\.config\.ts:3: events name the collection "ordres", which does not exist/,
    },
    {
      name: 'an event handler that is not a function',
      source: "export default {\n  events: {\n    'orders.delete': 'ship',\n  },\n}\n",
      expected: /plinth\.config\.ts:3: the event handler "orders\.delete" must be a function/,
    },
    {
      name: 'a throw while loading',
      source: "\nthrow new Error('the config refuses to load')\nexport default {}\n",
      expected: /plinth\.config\.ts(:\d+)?: the config refuses to load/,
    },
  ]

  test.each(cases)('$name', async ({ source, expected }) => {
    const config = writeProjectConfig(source)
    try {
      await expect(createApp({ ...t.config, projectConfig: config.file })).rejects.toThrow(expected)
    } finally {
      config.remove()
    }
  })

  test('a route that repeats one of Plinth’s fails start-up', async () => {
    const config = writeProjectConfig(
      "export default { routes: [{ method: 'GET', path: '/api/health', handler: () => ({}) }] }\n",
    )
    try {
      await expect(createApp({ ...t.config, projectConfig: config.file })).rejects.toThrow(/health/)
    } finally {
      config.remove()
    }
  })
})

describe('plinth serve --dev', () => {
  test('reloads the project config when it changes, and keeps serving when the new one is broken', async () => {
    const config = writeProjectConfig(
      "export default { routes: [{ method: 'GET', path: '/api/version', handler: () => ({ v: 1 }) }] }\n",
    )
    const dataDir = `${config.file}.data`
    const server = await startServer(['--dev', '--config', config.file, '--dir', dataDir], {
      PLINTH_RATE_LIMITS: 'off',
    })
    try {
      const version = async () =>
        ((await (await fetch(`${server.url}/api/version`)).json()) as { v: number }).v
      expect(await version()).toBe(1)
      writeFileSync(config.file, readFileSync(config.file, 'utf8').replace('v: 1', 'v: 2'))
      await eventually(async () => expect(await version()).toBe(2))
      writeFileSync(config.file, 'export default { routes: [ }\n')
      await eventually(async () => expect(server.output()).toContain('was not reloaded'))
      expect(await version()).toBe(2)
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
      config.remove()
    }
  })
})

describe('hook errors in the log', () => {
  test('name the request id and leave the stack out of the answer', async () => {
    const config = writeProjectConfig(`
export default {
  hooks: {
    '*': {
      beforeCreate({ record }) { if (record.title === 'before') throw new Error('before-hook broke: detail 1') },
      afterCreate({ record }) { if (record.title === 'after') throw new Error('after-hook broke: detail 2') },
    },
  },
}
`)
    const dataDir = `${config.file}.data`
    const server = await startServer(['--config', config.file, '--dir', dataDir], {
      PLINTH_RATE_LIMITS: 'off',
      PLINTH_LOG_FORMAT: 'json',
    })
    try {
      const superuser = { email: 'root@example.com', password: 'a long password 1' }
      const setup = server.output().match(/#token=([\w-]+)/)?.[1]
      const post = (path: string, body: object, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        })
      expect(
        (await post('/api/setup', { token: setup, ...superuser, passwordConfirm: superuser.password })).ok,
      ).toBe(true)
      const { token } = (await (
        await post('/api/collections/_superusers/auth-with-password', {
          identity: superuser.email,
          password: superuser.password,
        })
      ).json()) as { token: string }
      const auth = { authorization: `Bearer ${token}` }
      await post(
        '/api/collections',
        { name: 'items', fields: [{ name: 'title', type: 'text' }], createRule: '' },
        auth,
      )
      const before = await post(
        '/api/collections/items/records',
        { title: 'before' },
        { 'x-request-id': 'req-before-1' },
      )
      expect(before.status).toBe(500)
      const answer = await before.text()
      expect(answer).not.toContain('detail 1')
      expect(answer).toContain('req-before-1')
      const after = await post(
        '/api/collections/items/records',
        { title: 'after' },
        { 'x-request-id': 'req-after-1' },
      )
      expect(after.status).toBe(201)
      await eventually(async () => {
        const lines = server
          .output()
          .split('\n')
          .filter((line) => line.includes('broke: detail'))
        expect(lines.some((line) => line.includes('"reqId":"req-before-1"'))).toBe(true)
        expect(lines.some((line) => line.includes('"reqId":"req-after-1"'))).toBe(true)
      })
    } finally {
      server.child.kill('SIGTERM')
      await server.exited
      config.remove()
    }
  })
})

async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}
