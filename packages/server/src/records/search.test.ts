import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { superuser } from '../identity/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { CallerRecords } from './caller-records.js'

const articles = '/api/collections/articles/records'

const documents = {
  tips: { title: 'Search tips', body: 'search search search and more' },
  basics: { title: 'Search basics', body: 'one search here' },
  cooking: { title: 'Cooking', body: 'searching for pasta recipes' },
  garden: { title: 'Gardening', body: 'sun and water' },
}
type Name = keyof typeof documents

// Ranked by relevance: a match in the title weighs more than one in the body, and more
// matches more than fewer, on both databases.
const rankedQueries: Array<{ search: string; expected: Name[]; query?: string }> = [
  { search: 'search', expected: ['tips', 'basics', 'cooking'] },
  { search: 'SEARCHING', expected: ['tips', 'basics', 'cooking'] },
  { search: '"search tips"', expected: ['tips'] },
  { search: '"pasta recipes"', expected: ['cooking'] },
  { search: '"recipes pasta"', expected: [] },
  { search: 'sear*', expected: ['tips', 'basics', 'cooking'] },
  { search: 'search -tips', expected: ['basics', 'cooking'] },
  { search: 'search -"one search"', expected: ['tips', 'cooking'] },
  { search: 'search cooking', expected: ['cooking'] },
  { search: 'pasta recipes', expected: ['cooking'] },
  { search: '  water  ', expected: ['garden'] },
  { search: 'gard*', expected: ['garden'] },
  { search: 'nothingmatches', expected: [] },
  { search: 'search', query: 'sort=title', expected: ['cooking', 'basics', 'tips'] },
  { search: 'search', query: `filter=${encodeURIComponent('title ~ "basics"')}`, expected: ['basics'] },
  { search: 'search', query: 'perPage=2&page=2', expected: ['cooking'] },
]

// Search text that is the syntax of FTS5, tsquery or SQL is only ever text to look for.
const hostileSearches: Array<{ search: string; status: number }> = [
  { search: "'; DROP TABLE articles; --", status: 200 },
  { search: '" OR 1=1 --', status: 200 },
  { search: 'NEAR(search tips)', status: 200 },
  { search: 'search OR cooking', status: 200 },
  { search: 'title:search', status: 200 },
  { search: 'search:*', status: 200 },
  { search: "a' || 'b", status: 200 },
  { search: 'search)(', status: 200 },
  { search: '\\search\\', status: 200 },
  { search: 'NOT search', status: 200 },
  { search: '{title}: search', status: 200 },
  { search: 'sea*rch*', status: 200 },
  { search: '"unclosed phrase', status: 200 },
  { search: '😀 search', status: 200 },
  { search: '"', status: 400 },
  { search: '*', status: 400 },
  { search: '-', status: 400 },
  { search: ':*', status: 400 },
  { search: '&|!', status: 400 },
  { search: '\\', status: 400 },
  { search: '""', status: 400 },
  { search: '-search', status: 400 },
  { search: '-"search tips" -water', status: 400 },
  { search: 'search\u0001', status: 400 },
  { search: 'x'.repeat(501), status: 400 },
  { search: Array.from({ length: 33 }, (_, i) => `w${i}`).join(' '), status: 400 },
]

describe.each(testDialects)('searching records on %s', (kind) => {
  let t: TestApp
  const ids = {} as Record<Name, string>
  const nameOf = (id: string) => (Object.keys(ids) as Name[]).find((name) => ids[name] === id)
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'articles',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'body', type: 'editor' },
        { name: 'views', type: 'number' },
      ],
      listRule: '',
      search: { fields: ['title', 'body'], language: 'english' },
    })
    await createCollection(t, { name: 'plain', fields: [{ name: 'title', type: 'text' }], listRule: '' })
    for (const [name, body] of Object.entries(documents))
      ids[name as Name] = (await createRecord(t, 'articles', body)).id
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  const list = (query: string) => t.request({ method: 'GET', url: `${articles}?${query}`, auth: null })

  test.for(rankedQueries)(
    '"$search" $query finds $expected in order',
    async ({ search, query, expected }) => {
      const response = await list(`search=${encodeURIComponent(search)}${query ? `&${query}` : ''}`)
      expect(response.statusCode, response.body).toBe(200)
      const page = response.json()
      expect(page.items.map((item: { id: string }) => nameOf(item.id))).toEqual(expected)
      expect(Object.keys(page.items[0] ?? { id: 1, title: 1 })).not.toContain('_search')
    },
  )

  test('counts what the search matches, together with the filter', async () => {
    expect((await list('search=search&perPage=1')).json()).toMatchObject({ totalItems: 3, totalPages: 3 })
    const filtered = await list(`search=search&filter=${encodeURIComponent('title ~ "search"')}`)
    expect(filtered.json().totalItems).toBe(2)
    expect((await list('search=search&skipTotal=1')).json().totalItems).toBe(-1)
    expect((await list('search=%20%20')).json().totalItems).toBe(4)
  })

  test.for(hostileSearches)(
    'answers $status to a search of $search and changes nothing',
    async ({ search, status }) => {
      const response = await list(`search=${encodeURIComponent(search)}`)
      expect(response.statusCode, response.body).toBe(status)
      if (status === 400) {
        expect(response.headers['content-type']).toContain('application/problem+json')
        expect(response.json().errors.search.code).toBe('invalid_query')
      }
      expect((await list('perPage=1')).json().totalItems).toBe(4)
    },
  )

  test('refuses search where it cannot serve and highlight without a search', async () => {
    const cases = [
      { url: '/api/collections/plain/records?search=x', field: 'search' },
      { url: `${articles}?highlight=1`, field: 'highlight' },
      { url: `${articles}?search=x&highlight=maybe`, field: 'highlight' },
      { url: `${articles}?search=x&search=y`, field: 'search' },
    ]
    for (const { url, field } of cases) {
      const response = await t.request({ method: 'GET', url, auth: null })
      expect(response.statusCode, url).toBe(400)
      expect(response.json().errors[field].code).toBe('invalid_query')
    }
    const nul = await list('search=a%00b')
    expect(nul.statusCode).toBe(400)
  })

  test('highlights the fields that matched, escaped, with the matches marked', async () => {
    const hostile = await createRecord(t, 'articles', {
      title: 'Quotes & <b>tags</b> "in" titles',
      body: '<p>An &lt;script&gt;alert("x")&lt;/script&gt; about <strong>highlighting</strong></p>',
    })
    const plain = await t.request({
      method: 'POST',
      url: '/api/collections/plain/records',
      payload: { title: 'x' },
    })
    expect(plain.statusCode).toBe(201)
    const response = await list('search=highlighting&highlight=1')
    expect(response.statusCode, response.body).toBe(200)
    const [item] = response.json().items
    expect(item.id).toBe(hostile.id)
    expect(Object.keys(item.highlight)).toEqual(['body'])
    expect(item.highlight.body).toContain('<mark>highlighting</mark>')
    expect(item.highlight.body).toContain('&lt;script&gt;')
    expect(item.highlight.body).not.toMatch(/<(?!\/?mark>)/)

    const title = (await list('search=titles&highlight=1')).json().items[0]
    expect(title.highlight.title).toMatch(
      /^Quotes &amp; &lt;b&gt;tags&lt;\/b&gt; &quot;in&quot; <mark>titles<\/mark>$/,
    )

    const projected = (await list('search=titles&highlight=1&fields=id,highlight')).json().items[0]
    expect(Object.keys(projected)).toEqual(['id', 'highlight'])
    const without = (await list('search=titles&fields=id')).json().items[0]
    expect(without).toEqual({ id: hostile.id })
    const deleted = await t.request({ method: 'DELETE', url: `${articles}/${hostile.id}` })
    expect(deleted.statusCode).toBe(204)
  })

  test('a long text is highlighted in a window around its match', async () => {
    const filler = (word: string) => Array.from({ length: 80 }, (_, i) => `${word}${i}`).join(' ')
    const long = await createRecord(t, 'articles', {
      title: 'Long',
      body: `${filler('before')} needle ${filler('after')}`,
    })
    const [item] = (await list('search=needle&highlight=1')).json().items
    const body: string = item.highlight.body
    expect(body).toContain('<mark>needle</mark>')
    expect(body).not.toContain('before0 ')
    expect(body).not.toContain('after79')
    // SQLite marks where it cut the text; PostgreSQL's headline does not.
    if (kind === 'sqlite') expect(body).toMatch(/^\u2026.*\u2026$/)
    await t.request({ method: 'DELETE', url: `${articles}/${long.id}` })
  })

  test('keeps the index in step with every write', async () => {
    const created = await createRecord(t, 'articles', { title: 'Volcanoes', body: 'lava flows' })
    expect((await list('search=lava')).json().items.map((i: { id: string }) => i.id)).toEqual([created.id])
    const updated = await t.request({
      method: 'PATCH',
      url: `${articles}/${created.id}`,
      payload: { body: 'ash clouds' },
    })
    expect(updated.statusCode).toBe(200)
    expect((await list('search=lava')).json().totalItems).toBe(0)
    expect((await list('search=ash')).json().totalItems).toBe(1)
    await t.request({ method: 'PATCH', url: `${articles}/${created.id}`, payload: { views: 3 } })
    expect((await list('search=volcanoes')).json().totalItems).toBe(1)
    await t.request({ method: 'DELETE', url: `${articles}/${created.id}` })
    expect((await list('search=volcanoes')).json().totalItems).toBe(0)
  })
  test('hooks, routes and jobs search with the same options', async () => {
    const records = new CallerRecords(t.app.plinth.records, superuser)
    const page = await records.list('articles', { search: 'search', highlight: true, perPage: 1 })
    expect(page.totalItems).toBe(3)
    expect(page.items[0]!.highlight).toEqual({
      title: '<mark>Search</mark> tips',
      body: '<mark>search</mark> <mark>search</mark> <mark>search</mark> and more',
    })
  })
})
