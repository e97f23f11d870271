import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type FilePart, sendForm, textPart } from '../test-support/files.js'

const CONTENTS = 'the only bytes this suite may ever see'

describe.each(testDialects)('bad input on the file route on %s', (kind) => {
  let t: TestApp
  /** A record and the file it holds; `other` is a second record of the same collection. */
  let record: { id: string; file: string }
  let other: { id: string; file: string }
  let guarded: { id: string; file: string }

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'file', type: 'file' },
        { name: 'locked', type: 'file', protected: true },
      ],
      viewRule: '',
    })
    const upload = async (entries: Array<[string, FilePart]>) => {
      const response = await sendForm(t, 'POST', '/api/collections/docs/records', entries)
      expect(response.statusCode, response.body).toBe(201)
      return response.json()
    }
    const first = await upload([['file', textPart('notes.txt', CONTENTS)]])
    record = { id: first.id, file: first.file }
    const second = await upload([['file', textPart('other.txt', 'another record')]])
    other = { id: second.id, file: second.file }
    const third = await upload([['locked', textPart('locked.txt', 'guarded bytes')]])
    guarded = { id: third.id, file: third.locked }
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  /** A refusal as the contract wants it: a problem document, and none of the bytes of any file. */
  function expectProblem(response: { statusCode: number; headers: Record<string, unknown>; body: string }) {
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.body).not.toContain(CONTENTS)
    expect(response.body).not.toContain('SQLite format')
    expect(response.body).not.toContain('root:')
  }

  test('the record and file this suite refuses to serve elsewhere are served here', async () => {
    const response = await t.request({
      method: 'GET',
      url: `/api/files/docs/${record.id}/${record.file}`,
      auth: null,
    })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe(CONTENTS)
  })

  // A name or id no record could have is a 404 like a missing one; only a path the router
  // cannot decode (a NUL, broken percent-encoding) or hold is refused before the route.
  const paths: Array<{ why: string; path: () => string; status?: number }> = [
    { why: 'an unknown collection', path: () => `/api/files/nope/${record.id}/${record.file}` },
    {
      why: 'a collection that is not a name',
      path: () => `/api/files/..%2F..%2F/${record.id}/${record.file}`,
    },
    { why: 'a system collection', path: () => `/api/files/_superusers/${record.id}/${record.file}` },
    { why: 'a record id that is not one', path: () => `/api/files/docs/123/${record.file}` },
    { why: 'a traversal as record id', path: () => `/api/files/docs/..%2F..%2Fetc%2Fpasswd/${record.file}` },
    { why: 'encoded dots as record id', path: () => `/api/files/docs/%2e%2e%2f/${record.file}` },
    { why: 'dots as record id', path: () => `/api/files/docs/../${record.file}` },
    { why: "another record's id", path: () => `/api/files/docs/${other.id}/${record.file}` },
    { why: "another record's file", path: () => `/api/files/docs/${record.id}/${other.file}` },
    {
      why: 'a record id that does not exist',
      path: () => `/api/files/docs/${record.id.slice(0, -4)}ffff/${record.file}`,
    },
    { why: 'a traversal as file name', path: () => `/api/files/docs/${record.id}/..%2f..%2fplinth.db` },
    { why: 'an encoded traversal', path: () => `/api/files/docs/${record.id}/%2e%2e%2f%2e%2e%2fplinth.db` },
    { why: 'a backslash traversal', path: () => `/api/files/docs/${record.id}/..%5c..%5cplinth.db` },
    { why: 'an absolute path', path: () => `/api/files/docs/${record.id}/%2fetc%2fpasswd` },
    { why: '__proto__', path: () => `/api/files/docs/${record.id}/__proto__` },
    { why: 'constructor', path: () => `/api/files/docs/${record.id}/constructor` },
    { why: 'prototype', path: () => `/api/files/docs/${record.id}/prototype` },
    { why: 'a collection named __proto__', path: () => `/api/files/__proto__/${record.id}/${record.file}` },
    {
      why: 'a collection named constructor',
      path: () => `/api/files/constructor/${record.id}/${record.file}`,
    },
    {
      why: 'a NUL after the name',
      path: () => `/api/files/docs/${record.id}/${record.file}%00.html`,
      status: 400,
    },
    { why: 'a NUL alone', path: () => `/api/files/docs/${record.id}/%00`, status: 400 },
    {
      why: 'a NUL in the record id',
      path: () => `/api/files/docs/${record.id}%00/${record.file}`,
      status: 400,
    },
    { why: 'the name in capitals', path: () => `/api/files/docs/${record.id}/${record.file.toUpperCase()}` },
    { why: 'the name with a slash after it', path: () => `/api/files/docs/${record.id}/${record.file}%2f` },
    { why: 'a long name', path: () => `/api/files/docs/${record.id}/${'a'.repeat(150)}.txt` },
    {
      why: 'a very long name',
      path: () => `/api/files/docs/${record.id}/${'a'.repeat(5000)}.txt`,
      status: 414,
    },
    { why: 'invalid percent-encoding', path: () => `/api/files/docs/${record.id}/%zz%e0%80`, status: 400 },
    { why: 'a thumbnail key as name', path: () => `/api/files/docs/${record.id}/thumbs%2f${record.file}` },
  ]
  test.for(paths)('$why is a problem, never a file', async ({ path, status = 404 }) => {
    const response = await t.request({ method: 'GET', url: path(), auth: null })
    expect(response.statusCode, response.body).toBe(status)
    expectProblem(response)
  })

  const queries: Array<{ why: string; query: string; status: number; parameter: string }> = [
    { why: 'an unknown parameter', query: '?foo=1', status: 400, parameter: 'foo' },
    { why: 'a PocketBase-only parameter', query: '?thumbs=100x100', status: 400, parameter: 'thumbs' },
    { why: 'thumb twice', query: '?thumb=100x100&thumb=100x100', status: 400, parameter: 'thumb' },
    { why: 'download twice', query: '?download=1&download=0', status: 400, parameter: 'download' },
    { why: 'token twice', query: '?token=a&token=b', status: 400, parameter: 'token' },
    { why: 'a __proto__ parameter', query: '?__proto__=1', status: 400, parameter: '__proto__' },
    { why: 'a constructor parameter', query: '?constructor=1', status: 400, parameter: 'constructor' },
    { why: 'bracket syntax', query: '?thumb[]=100x100', status: 400, parameter: 'thumb[]' },
    { why: 'a malformed thumbnail size', query: '?thumb=../../x', status: 400, parameter: 'thumb' },
  ]
  test.for(queries)('$why is $status naming $parameter', async ({ query, status, parameter }) => {
    const response = await t.request({
      method: 'GET',
      url: `/api/files/docs/${record.id}/${record.file}${query}`,
      auth: null,
    })
    expect(response.statusCode, response.body).toBe(status)
    expectProblem(response)
    expect(Object.keys(response.json().errors ?? {})).toEqual([parameter])
  })

  test.for([
    { why: 'a garbage token', token: 'garbage' },
    { why: 'an empty-looking JWT', token: 'e30.e30.' },
    { why: 'an unsigned JWT', token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.` },
    { why: 'a very long token', token: 'x'.repeat(4000) },
  ])('$why on a protected file is a 401', async ({ token }) => {
    const response = await t.request({
      method: 'GET',
      url: `/api/files/docs/${guarded.id}/${guarded.file}?token=${encodeURIComponent(token)}`,
      auth: null,
    })
    expect(response.statusCode, response.body).toBe(401)
    expectProblem(response)
    expect(response.body).not.toContain('guarded bytes')
  })

  test('a method other than GET and HEAD is refused', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const response = await t.request({ method, url: `/api/files/docs/${record.id}/${record.file}` })
      expect([404, 405], method).toContain(response.statusCode)
      expectProblem(response)
    }
    const after = await t.request({ method: 'GET', url: `/api/files/docs/${record.id}/${record.file}` })
    expect(after.body).toBe(CONTENTS)
  })
})
