import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { anonymous, type Caller } from '../identity/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog } from '../test-support/rules-blog.js'
import { allows } from './index.js'

const collections = ['users', 'posts', 'comments', 'notes', 'secrets']

/**
 * The in-memory decision (for realtime and other places without a query) must be the one
 * the SQL makes: for every record of the blog and every caller, `allows(…, 'view', …)` is
 * true exactly when GET answers the record.
 */
describe.each(testDialects)('allows() decides as the SQL does on %s', (kind) => {
  let blog: Blog
  const stored = new Map<string, Record<string, unknown>>()
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    blog = await createBlog(kind)
    for (const collection of collections) {
      const list = await blog.t.request({
        method: 'GET',
        url: `/api/collections/${collection}/records?perPage=500`,
      })
      for (const record of list.json().items) stored.set(`${collection}/${record.id}`, record)
    }
  })
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterAll(async () => blog?.t.close())

  test('for every record, anonymous, two users and a superuser', async () => {
    const { app } = blog.t
    const callers: [string, string | null, Caller][] = [
      ['anonymous', null, anonymous],
      ['ann', blog.ann.token, await app.plinth.auth.tokens.verify(blog.ann.token)],
      ['bob', blog.bob.token, await app.plinth.auth.tokens.verify(blog.bob.token)],
      ['superuser', blog.t.token, await app.plinth.auth.tokens.verify(blog.t.token)],
    ]
    const context = {
      collections: (name: string) => app.plinth.registry.get(name),
      lookup: (collection: string, id: string) => stored.get(`${collection}/${id}`),
    }
    const decisions: string[] = []
    for (const [key, record] of stored) {
      const [collection, id] = key.split('/') as [string, string]
      const definition = app.plinth.registry.get(collection)!
      for (const [name, token, caller] of callers) {
        const answer = await blog.t.request({
          method: 'GET',
          url: `/api/collections/${key.replace('/', '/records/')}`,
          auth: token,
        })
        const inMemory = allows(caller, definition, 'view', record, context)
        expect(inMemory, `${name} viewing ${collection} ${id}: GET answered ${answer.statusCode}`).toBe(
          answer.statusCode === 200,
        )
        decisions.push(`${inMemory}`)
      }
    }
    expect(decisions).toContain('true')
    expect(decisions).toContain('false')
  })
})
