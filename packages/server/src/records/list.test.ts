import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createRecord, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const posts = '/api/collections/posts/records'

describe.each(testDialects)('listing records on %s', (kind) => {
  let t: TestApp
  let ada: Record<string, any>
  let bob: Record<string, any>
  const titles: string[] = []
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    ;({ ada, bob } = await setupBlog(t))
    for (let i = 0; i < 45; i++) {
      const title = `post ${String(i).padStart(2, '0')}`
      titles.push(title)
      await createRecord(t, 'posts', {
        title,
        views: i % 10,
        author: i % 2 === 0 ? ada.id : bob.id,
        tags: i % 3 === 0 ? ['news'] : [],
      })
    }
  })
  afterAll(async () => t?.close())
  const list = async (query: string) => t.request({ method: 'GET', url: `${posts}?${query}` })
  const skipIfNoDatabase = (context: { skip: (reason: string) => void }) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  }

  test('pages default to 30 and report the totals', async (context) => {
    skipIfNoDatabase(context)
    const first = (await list('')).json()
    expect(first).toMatchObject({ page: 1, perPage: 30, totalItems: 45, totalPages: 2 })
    expect(first.items).toHaveLength(30)
    const second = (await list('page=2')).json()
    expect(second.items).toHaveLength(15)
    const ids = new Set([...first.items, ...second.items].map((r: any) => r.id))
    expect(ids.size).toBe(45)
  })

  test('sort is applied, with id as the tie-breaker for a stable order', async (context) => {
    skipIfNoDatabase(context)
    const byTitle = (await list('sort=-title&perPage=5')).json()
    expect(byTitle.items.map((r: any) => r.title)).toEqual([...titles].sort().reverse().slice(0, 5))
    const byViews = (await list('sort=views&perPage=500')).json().items
    for (let i = 1; i < byViews.length; i++) {
      const [a, b] = [byViews[i - 1], byViews[i]]
      expect(a.views < b.views || (a.views === b.views && a.id < b.id)).toBe(true)
    }
  })

  test('filter narrows the items and the total', async (context) => {
    skipIfNoDatabase(context)
    const response = (
      await list(`filter=${encodeURIComponent(`author = "${ada.id}" && views >= 5`)}&perPage=100`)
    ).json()
    expect(response.totalItems).toBe(titles.filter((_, i) => i % 2 === 0 && i % 10 >= 5).length)
    for (const item of response.items) expect(item.author).toBe(ada.id)
    const related = (await list(`filter=${encodeURIComponent('author.name = "Bob"')}&perPage=100`)).json()
    expect(related.totalItems).toBe(22)
    const anyOf = (await list(`filter=${encodeURIComponent('tags ?= "news"')}&perPage=100`)).json()
    expect(anyOf.totalItems).toBe(15)
  })

  test('skipTotal leaves out the count', async (context) => {
    skipIfNoDatabase(context)
    const response = (await list('skipTotal=1&perPage=10')).json()
    expect(response).toMatchObject({ totalItems: -1, totalPages: -1 })
    expect(response.items).toHaveLength(10)
  })

  test('fields narrows each item, also inside expand', async (context) => {
    skipIfNoDatabase(context)
    const response = (
      await list('fields=id,title,expand.author.name&expand=author&perPage=2&sort=title')
    ).json()
    expect(Object.keys(response.items[0]).sort()).toEqual(['expand', 'id', 'title'])
    expect(response.items[0].expand.author).toEqual({ name: 'Ada' })
  })

  test('expand puts the related record under expand', async (context) => {
    skipIfNoDatabase(context)
    const response = (await list('expand=author&perPage=1&sort=title')).json()
    expect(response.items[0].expand.author).toMatchObject({
      id: ada.id,
      name: 'Ada',
      collectionName: 'authors',
    })
  })

  const badQueries = [
    ['page=0', 'page'],
    ['page=-1', 'page'],
    ['page=abc', 'page'],
    ['perPage=1001', 'perPage'],
    ['perPage=0', 'perPage'],
    ['perPage=1e3', 'perPage'],
    ['page=1&page=2', 'page'],
    ['skipTotal=maybe', 'skipTotal'],
    ['nope=1', 'nope'],
    [`filter=${encodeURIComponent('title = ')}`, 'filter'],
    [`filter=${encodeURIComponent('missing = 1')}`, 'filter'],
    [`filter=${encodeURIComponent('views = "many"')}`, 'filter'],
    [`filter=${encodeURIComponent('(((title = "a"')}`, 'filter'],
    ['sort=nope', 'sort'],
    ['sort=--title', 'sort'],
    ['fields=nope', 'fields'],
    ['fields=a..b', 'fields'],
    ['expand=title', 'expand'],
    ['expand=nope', 'expand'],
    ['expand=a.b.c.d.e.f.g', 'expand'],
  ] as const

  test.for(badQueries)('%s is a 400 naming %s', async ([query, parameter], context) => {
    skipIfNoDatabase(context)
    const response = await list(query)
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(Object.keys(response.json().errors)).toContain(parameter)
  })

  test('a filter error names the position', async (context) => {
    skipIfNoDatabase(context)
    const response = await list(`filter=${encodeURIComponent('title = "a" && nope > 1')}`)
    expect(response.json().position).toBe(15)
  })
})
