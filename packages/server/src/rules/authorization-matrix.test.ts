import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, PASSWORD, seed, stored, url } from '../test-support/rules-blog.js'

/*
 * Every operation on every collection of the blog, for every kind of caller, each cell an
 * explicit answer. "owner" is Ann, who owns the target records; "other" is Bob. The API keys
 * are Ann's: one scoped to every operation on every collection, one to listing `teams` only.
 */
const callers = ['anonymous', 'owner', 'other', 'superuser', 'key', 'keyWithoutScope'] as const
type CallerName = (typeof callers)[number]
type Row<T> = Record<CallerName, T>

const ownerOnly: Row<number> = {
  anonymous: 404,
  owner: 200,
  other: 404,
  superuser: 200,
  key: 200,
  keyWithoutScope: 403,
}
const locked = (ok: number): Row<number> => ({
  anonymous: 401,
  owner: 403,
  other: 403,
  superuser: ok,
  key: 403,
  keyWithoutScope: 403,
})
const everyone = (ok: number): Row<number> => ({
  anonymous: ok,
  owner: ok,
  other: ok,
  superuser: ok,
  key: ok,
  keyWithoutScope: 403,
})
const createdByOwner: Row<number> = {
  anonymous: 403,
  owner: 201,
  other: 403,
  superuser: 201,
  key: 201,
  keyWithoutScope: 403,
}
const deletedByOwner: Row<number> = {
  anonymous: 404,
  owner: 204,
  other: 404,
  superuser: 204,
  key: 204,
  keyWithoutScope: 403,
}

/** Names of seeded records (see test-support/rules-blog.ts), plus `ann` and `bob` for the users. */
const lists: { collection: string; expected: Row<string[] | number> }[] = [
  {
    collection: 'users',
    expected: {
      anonymous: [],
      owner: ['ann'],
      other: ['bob'],
      superuser: ['ann', 'bob'],
      key: ['ann'],
      keyWithoutScope: 403,
    },
  },
  {
    collection: 'posts',
    expected: {
      anonymous: ['annPublic'],
      owner: ['annPublic', 'annDraft'],
      other: ['annPublic', 'bobDraft'],
      superuser: ['annPublic', 'annDraft', 'bobDraft'],
      key: ['annPublic', 'annDraft'],
      keyWithoutScope: 403,
    },
  },
  {
    collection: 'comments',
    expected: {
      anonymous: ['onPublic'],
      owner: ['onPublic', 'onAnnDraft'],
      other: ['onPublic', 'onBobDraft'],
      superuser: ['onPublic', 'onAnnDraft', 'onBobDraft'],
      key: ['onPublic', 'onAnnDraft'],
      keyWithoutScope: 403,
    },
  },
  {
    collection: 'secrets',
    expected: {
      anonymous: 401,
      owner: 403,
      other: 403,
      superuser: ['secret'],
      key: 403,
      keyWithoutScope: 403,
    },
  },
  {
    collection: 'notes',
    expected: {
      anonymous: ['note'],
      owner: ['note'],
      other: ['note'],
      superuser: ['note'],
      key: ['note'],
      keyWithoutScope: 403,
    },
  },
]

const views: { collection: string; target: string; expected: Row<number> }[] = [
  { collection: 'users', target: 'ann', expected: ownerOnly },
  { collection: 'posts', target: 'annDraft', expected: ownerOnly },
  { collection: 'posts', target: 'annPublic', expected: everyone(200) },
  { collection: 'comments', target: 'onAnnDraft', expected: ownerOnly },
  { collection: 'comments', target: 'onPublic', expected: everyone(200) },
  { collection: 'secrets', target: 'secret', expected: locked(200) },
  { collection: 'notes', target: 'note', expected: everyone(200) },
]

interface WriteCase {
  collection: string
  expected: Row<number>
  /** A record for the cell, made by a superuser: the target of an update or delete. */
  target?: (blog: Blog, caller: CallerName) => Promise<string>
  body: (blog: Blog, n: number) => Record<string, unknown>
  /** The field whose stored value shows whether an update happened. */
  field?: string
}

const annPost = (blog: Blog) =>
  seed(blog.t, 'posts', { owner: blog.ann.id, title: 'target', published: false })
const annComment = (blog: Blog) =>
  seed(blog.t, 'comments', { post: blog.ids.annDraft!, author: blog.ann.id, body: 'target' })
const annNote = (blog: Blog) => seed(blog.t, 'notes', { owner: blog.ann.id, text: 'target', internal: 'x' })
const aSecret = (blog: Blog) => seed(blog.t, 'secrets', { code: 'target' })

const creates: WriteCase[] = [
  {
    collection: 'users',
    body: (_, n) => ({ email: `new${n}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD }),
    expected: everyone(201),
  },
  {
    collection: 'posts',
    body: (blog) => ({ owner: blog.ann.id, title: 'new', published: false }),
    expected: createdByOwner,
  },
  {
    collection: 'comments',
    body: (blog) => ({ post: blog.ids.annPublic, author: blog.ann.id, body: 'new' }),
    expected: createdByOwner,
  },
  { collection: 'secrets', body: () => ({ code: 'new' }), expected: locked(201) },
  {
    collection: 'notes',
    body: (blog) => ({ owner: blog.ann.id, text: 'new', internal: 'new' }),
    expected: createdByOwner,
  },
]

const updates: WriteCase[] = [
  {
    collection: 'users',
    target: async (blog) => blog.ann.id,
    body: (_, n) => ({ name: `Ann ${n}` }),
    field: 'name',
    expected: ownerOnly,
  },
  {
    collection: 'posts',
    target: annPost,
    body: (_, n) => ({ title: `changed ${n}` }),
    field: 'title',
    expected: ownerOnly,
  },
  {
    collection: 'comments',
    target: annComment,
    body: (_, n) => ({ body: `changed ${n}` }),
    field: 'body',
    expected: ownerOnly,
  },
  {
    collection: 'secrets',
    target: aSecret,
    body: (_, n) => ({ code: `changed ${n}` }),
    field: 'code',
    expected: locked(200),
  },
  {
    collection: 'notes',
    target: annNote,
    body: (_, n) => ({ text: `changed ${n}` }),
    field: 'text',
    expected: ownerOnly,
  },
]

const deletes: WriteCase[] = [
  {
    collection: 'users',
    // Only a superuser may delete users; it deletes a user of its own making, so Ann stays.
    target: (blog, caller) =>
      caller === 'superuser'
        ? seed(blog.t, 'users', { email: 'gone@example.com', password: PASSWORD, passwordConfirm: PASSWORD })
        : Promise.resolve(blog.ann.id),
    body: () => ({}),
    expected: locked(204),
  },
  { collection: 'posts', target: annPost, body: () => ({}), expected: deletedByOwner },
  { collection: 'comments', target: annComment, body: () => ({}), expected: deletedByOwner },
  { collection: 'secrets', target: aSecret, body: () => ({}), expected: locked(204) },
  { collection: 'notes', target: annNote, body: () => ({}), expected: deletedByOwner },
]

const cells = <S, T extends { expected: Row<S> }>(rows: T[]) =>
  rows.flatMap((row) => callers.map((caller) => ({ ...row, caller, status: row.expected[caller] as S })))

describe.each(testDialects)('authorization matrix on %s', (kind) => {
  let blog: Blog
  let bearer: Record<CallerName, string | null | undefined>
  let counter = 0

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    blog = await createBlog(kind)
    const keyOf = async (scopes: object[]) => {
      const response = await blog.t.request({
        method: 'POST',
        url: '/api/auth/api-keys',
        auth: blog.ann.token,
        payload: { name: 'matrix', scopes },
      })
      expect(response.statusCode, response.body).toBe(201)
      return response.json().key as string
    }
    bearer = {
      anonymous: null,
      owner: blog.ann.token,
      other: blog.bob.token,
      superuser: undefined,
      key: await keyOf([{ collection: '*', operations: ['list', 'view', 'create', 'update', 'delete'] }]),
      keyWithoutScope: await keyOf([{ collection: 'teams', operations: ['list'] }]),
    }
  })
  afterAll(async () => blog?.t.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  const idOf = (name: string) => ({ ann: blog.ann.id, bob: blog.bob.id })[name] ?? blog.ids[name]!
  const total = async (collection: string) =>
    (await blog.t.request({ method: 'GET', url: url(collection, undefined, '?perPage=1') })).json().totalItems

  // Lists and views run first, on the seeded records only.
  test.for(cells<string[] | number, (typeof lists)[number]>(lists))(
    'list $collection as $caller',
    async ({ collection, caller, status }) => {
      const response = await blog.t.request({
        method: 'GET',
        url: url(collection, undefined, '?perPage=100'),
        auth: bearer[caller],
      })
      if (typeof status === 'number') {
        expect(response.statusCode, response.body).toBe(status)
        expect(response.headers['content-type']).toContain('application/problem+json')
        return
      }
      expect(response.statusCode, response.body).toBe(200)
      const ids = response.json().items.map((item: { id: string }) => item.id)
      expect(ids.sort()).toEqual(status.map(idOf).sort())
      expect(response.json().totalItems).toBe(status.length)
    },
  )

  test.for(cells<number, (typeof views)[number]>(views))(
    'view $target in $collection as $caller',
    async ({ collection, target, caller, status }) => {
      const response = await blog.t.request({
        method: 'GET',
        url: url(collection, idOf(target)),
        auth: bearer[caller],
      })
      expect(response.statusCode, response.body).toBe(status)
      if (status === 200) expect(response.json().id).toBe(idOf(target))
      else expect(response.body).not.toContain(idOf(target))
    },
  )

  test.for(cells<number, WriteCase>(creates))(
    'create in $collection as $caller',
    async ({ collection, caller, status, body }) => {
      const before = await total(collection)
      const response = await blog.t.request({
        method: 'POST',
        url: url(collection),
        auth: bearer[caller],
        payload: body(blog, ++counter),
      })
      expect(response.statusCode, response.body).toBe(status)
      expect(await total(collection)).toBe(status === 201 ? before + 1 : before)
    },
  )

  test.for(cells<number, WriteCase>(updates))(
    'update in $collection as $caller',
    async ({ collection, caller, status, target, body, field }) => {
      const id = await target!(blog, caller)
      const before = await stored(blog.t, collection, id)
      const payload = body(blog, ++counter)
      const response = await blog.t.request({
        method: 'PATCH',
        url: url(collection, id),
        auth: bearer[caller],
        payload,
      })
      expect(response.statusCode, response.body).toBe(status)
      const after = await stored(blog.t, collection, id)
      expect(after![field!]).toBe(status === 200 ? payload[field!] : before![field!])
      if (status !== 200) expect(after!.updated).toBe(before!.updated)
    },
  )

  test.for(cells<number, WriteCase>(deletes))(
    'delete in $collection as $caller',
    async ({ collection, caller, status, target }) => {
      const id = await target!(blog, caller)
      const response = await blog.t.request({
        method: 'DELETE',
        url: url(collection, id),
        auth: bearer[caller],
      })
      expect(response.statusCode, response.body).toBe(status)
      expect(await stored(blog.t, collection, id)).toEqual(
        status === 204 ? null : expect.objectContaining({ id }),
      )
    },
  )

  test('covers every collection, operation and caller', () => {
    const collections = ['users', 'posts', 'comments', 'secrets', 'notes']
    for (const table of [lists, views, creates, updates, deletes]) {
      expect(new Set(table.map((row) => row.collection))).toEqual(new Set(collections))
    }
  })
})
