// @vitest-environment happy-dom
import { afterEach, describe, expect, test, vi } from 'vitest'
import type { CollectionModel } from '../api/types'
import { importRecords, parseCsv, readImport } from './records-transfer'

const posts = {
  name: 'posts',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'views', type: 'number' },
    { name: 'published', type: 'bool' },
    { name: 'meta', type: 'json' },
  ],
} as CollectionModel

describe('parseCsv', () => {
  test('reads quoted cells with commas, doubled quotes and line breaks, and CRLF lines', () => {
    expect(parseCsv('a,b\r\n"x, y","say ""hi"""\n"two\nlines",\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['two\nlines', ''],
    ])
  })

  test('skips blank lines and keeps a last line without a line break', () => {
    expect(parseCsv('a\n\n1')).toEqual([['a'], ['1']])
  })
})

describe('readImport', () => {
  test('reads CSV cells as the values of their fields, leaving empty cells out', () => {
    const csv = 'title,views,published,meta\nHello,12,true,"{""a"":1}"\n,,no,\n'
    expect(readImport(posts, 'posts.csv', csv)).toEqual([
      { title: 'Hello', views: 12, published: true, meta: { a: 1 } },
      { published: false },
    ])
  })

  test('takes a JSON array as it is, and refuses JSON that is not one', () => {
    expect(readImport(posts, 'posts.json', '[{"title":"x"}]')).toEqual([{ title: 'x' }])
    expect(() => readImport(posts, 'posts.json', '{"title":"x"}')).toThrow('array of records')
  })
})

describe('importRecords', () => {
  afterEach(() => vi.unstubAllGlobals())

  test('sends a refused batch again a record at a time and reports each rejected row and field', async () => {
    const problem = (status: number, body: unknown) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json' } })
    const fetch = vi.fn(async (url: string, init: RequestInit) => {
      if (url === '/api/batch')
        return problem(400, { status: 400, detail: 'A request failed.', failedIndex: 1 })
      const body = JSON.parse(String(init.body)) as { title?: string }
      if (!body.title)
        return problem(400, {
          status: 400,
          detail: 'The request contains invalid data.',
          errors: { title: { code: 'required', message: 'is required' } },
        })
      return new Response(JSON.stringify({ id: 'x', ...body }), { status: 200 })
    })
    vi.stubGlobal('fetch', fetch)
    const progress: number[] = []
    const rejections = await importRecords('posts', [{ title: 'a' }, {}, { title: 'c' }], (done) =>
      progress.push(done),
    )
    expect(rejections).toEqual([{ row: 2, field: 'title', message: 'is required' }])
    expect(progress).toEqual([3])
    expect(fetch.mock.calls.map(([url]) => url)).toEqual([
      '/api/batch',
      '/api/collections/posts/records',
      '/api/collections/posts/records',
      '/api/collections/posts/records',
    ])
  })
})
