import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { signUp, type User } from '../test-support/rules-blog.js'

const notes = '/api/collections/notes/records'

describe.each(testDialects)('search under rules, and with typos, on %s', (kind) => {
  let t: TestApp
  let ann: User
  let bob: User
  const own: Record<string, string[]> = { ann: [], bob: [] }
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [{ name: 'name', type: 'text' }],
      createRule: '',
    })
    await createCollection(t, {
      name: 'notes',
      fields: [
        { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
        { name: 'text', type: 'text' },
        { name: 'secret', type: 'text', hidden: true },
      ],
      listRule: 'owner = @request.auth.id',
      search: { fields: ['text'], language: 'english', fuzzy: true },
    })
    ann = await signUp(t, 'ann@example.com')
    bob = await signUp(t, 'bob@example.com')
    for (const [who, user] of [
      ['ann', ann],
      ['bob', bob],
    ] as const)
      for (const text of ['a search engine', 'searching for keys', 'unrelated shopping list'])
        own[who]!.push((await createRecord(t, 'notes', { owner: user.id, text, secret: 'search' })).id)
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  const search = (query: string, token: string | null) =>
    t.request({ method: 'GET', url: `${notes}?search=${encodeURIComponent(query)}`, auth: token })

  test("another user's matching records are neither returned nor counted", async () => {
    const page = (await search('search', ann.token)).json()
    expect(page.totalItems).toBe(2)
    expect(page.items.map((item: { id: string }) => item.id).sort()).toEqual(own.ann!.slice(0, 2).sort())
    const anonymous = (await search('search', null)).json()
    expect(anonymous).toMatchObject({ items: [], totalItems: 0 })
    const both = (await search('search', t.token)).json()
    expect(both.totalItems).toBe(4)
  })

  test('the list rule and a filter narrow the search together', async () => {
    const response = await t.request({
      method: 'GET',
      url: `${notes}?search=search&filter=${encodeURIComponent('text ~ "keys"')}`,
      auth: bob.token,
    })
    expect(response.json().items.map((item: { id: string }) => item.id)).toEqual([own.bob![1]])
  })

  test('a word with a typo finds the word, after the exact matches', async () => {
    const typo = (await search('serch', ann.token)).json()
    expect(typo.items.map((item: { text: string }) => item.text)).toEqual(['a search engine'])
    const exactFirst = (await search('engine', ann.token)).json()
    expect(exactFirst.items.map((item: { text: string }) => item.text)).toEqual(['a search engine'])
    const both = (await search('shoping', ann.token)).json()
    expect(both.items.map((item: { text: string }) => item.text)).toEqual(['unrelated shopping list'])
    expect((await search('zzzzqqq', ann.token)).json().totalItems).toBe(0)
  })

  test('the hidden field is not searched', async () => {
    const response = await t.request({ method: 'GET', url: `${notes}?search=shopping`, auth: t.token })
    expect(response.json().totalItems).toBe(2)
    const failed = await t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { search: { fields: ['text', 'secret'] } },
    })
    expect(failed.statusCode).toBe(400)
    expect(failed.json().errors['search.fields.1'].code).toBe('invalid_value')
  })
})
