import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type Blog, createBlog, PASSWORD, seed, stored, type User, url } from '../test-support/rules-blog.js'

/*
 * What a caller must not learn or do beyond the rules, through expand, filter, sort, fields,
 * @collection, request bodies and other users' ids. Uses the blog of test-support/rules-blog.ts, where
 * users see only themselves.
 */
describe.each(testDialects)('rules against attacks on %s', (kind) => {
  let blog: Blog
  let ann: User
  let bob: User

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    blog = await createBlog(kind)
    ;({ ann, bob } = blog)
  })
  afterAll(async () => blog?.t.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  const get = (path: string, auth: string | null | undefined) =>
    blog.t.request({ method: 'GET', url: path, auth })
  const problem = (response: { statusCode: number; headers: Record<string, unknown> }, status = 400) => {
    expect(response.statusCode).toBe(status)
    expect(response.headers['content-type']).toContain('application/problem+json')
  }

  describe('IDOR through expand', () => {
    test('a relation to a record the target view rule hides is not expanded', async () => {
      const response = await get(url('posts', blog.ids.annPublic, '?expand=owner'), bob.token)
      expect(response.statusCode).toBe(200)
      expect(response.json().owner).toBe(ann.id)
      expect(response.json().expand).toBeUndefined()
      expect(response.body).not.toContain('ann@example.com')
    })

    test('the owner sees the expansion, never the password or token key', async () => {
      const response = await get(url('posts', blog.ids.annPublic, '?expand=owner'), ann.token)
      const owner = response.json().expand.owner
      expect(owner).toMatchObject({ id: ann.id, email: 'ann@example.com' })
      expect(owner).not.toHaveProperty('password')
      expect(owner).not.toHaveProperty('tokenKey')
      const asSuperuser = await get(url('posts', blog.ids.annPublic, '?expand=owner'), undefined)
      expect(asSuperuser.json().expand.owner).not.toHaveProperty('password')
      expect(asSuperuser.json().expand.owner).not.toHaveProperty('tokenKey')
    })

    test('nested expand applies each level its own view rule', async () => {
      const response = await get(url('comments', undefined, '?expand=post.owner,author'), bob.token)
      const byId = new Map(response.json().items.map((item: any) => [item.id, item]))
      const onPublic = byId.get(blog.ids.onPublic) as any
      expect(onPublic.expand.post.id).toBe(blog.ids.annPublic)
      expect(onPublic.expand.post.expand).toBeUndefined()
      expect(onPublic.expand.author.id).toBe(bob.id)
      const onBobDraft = byId.get(blog.ids.onBobDraft) as any
      expect(onBobDraft.expand.post.expand.owner.id).toBe(bob.id)
    })

    test('a multi relation expands only the records the caller may view', async () => {
      await blog.t.request({
        method: 'POST',
        url: '/api/collections',
        payload: {
          name: 'reading_lists',
          fields: [{ name: 'posts', type: 'relation', collection: 'posts', maxSelect: 5 }],
          listRule: '',
          viewRule: '',
        },
      })
      const all = [blog.ids.annPublic, blog.ids.annDraft, blog.ids.bobDraft]
      const id = await seed(blog.t, 'reading_lists', { posts: all })
      const response = await get(url('reading_lists', id, '?expand=posts'), bob.token)
      expect(response.json().posts).toEqual(all)
      expect(response.json().expand.posts.map((p: any) => p.id)).toEqual([
        blog.ids.annPublic,
        blog.ids.bobDraft,
      ])
    })
  })

  describe('IDOR through filter, sort and fields', () => {
    const refused: { name: string; path: string; param: string }[] = [
      {
        name: 'password in a filter',
        path: url('users', undefined, '?filter=password~"a"'),
        param: 'filter',
      },
      {
        name: 'tokenKey in a filter',
        path: url('users', undefined, '?filter=tokenKey~"a"'),
        param: 'filter',
      },
      {
        name: 'password through a relation',
        path: url('posts', undefined, '?filter=owner.password~"a"'),
        param: 'filter',
      },
      { name: 'password in a sort', path: url('users', undefined, '?sort=password'), param: 'sort' },
      { name: 'password in fields', path: url('users', undefined, '?fields=password'), param: 'fields' },
      { name: 'tokenKey in fields', path: url('users', undefined, '?fields=tokenKey'), param: 'fields' },
      {
        name: 'a hidden field in a filter',
        path: url('notes', undefined, '?filter=internal~"c"'),
        param: 'filter',
      },
      { name: 'a hidden field in a sort', path: url('notes', undefined, '?sort=internal'), param: 'sort' },
      {
        name: 'a hidden field in fields',
        path: url('notes', undefined, '?fields=id,internal'),
        param: 'fields',
      },
      {
        name: '@collection into a locked collection',
        path: url('posts', undefined, `?filter=${encodeURIComponent('@collection.secrets.code ?= "abc"')}`),
        param: 'filter',
      },
      {
        name: '@collection into users',
        path: url('posts', undefined, `?filter=${encodeURIComponent('@collection.users.email ?~ "ann"')}`),
        param: 'filter',
      },
      {
        name: 'a path into a locked collection',
        path: url('users', undefined, '?filter=team.name="x"'),
        param: 'filter',
      },
    ]

    test.for(refused)('refuses $name with a 400', async ({ path, param }) => {
      const response = await get(path, bob.token)
      problem(response)
      expect(response.json().errors[param]).toBeDefined()
      // The request id in `instance` is random and may contain any letters.
      expect(JSON.stringify({ ...response.json(), instance: null })).not.toContain('abc')
    })

    test('superusers may filter on hidden fields and with @collection, never on passwords', async () => {
      const hidden = await get(url('notes', undefined, '?filter=internal~"class"'), undefined)
      expect(hidden.json().items.map((i: any) => i.id)).toEqual([blog.ids.note])
      const lookup = await get(
        url('posts', undefined, `?filter=${encodeURIComponent('@collection.secrets.code ?= "abc"')}`),
        undefined,
      )
      expect(lookup.json().totalItems).toBe(3)
      problem(await get(url('users', undefined, '?filter=password~"a"'), undefined))
    })

    test('a path through a relation sees only what the target view rule shows', async () => {
      const byName = url('posts', undefined, `?filter=${encodeURIComponent('owner.name ~ "ann"')}`)
      expect((await get(byName, bob.token)).json().items).toEqual([])
      expect((await get(byName, null)).json().items).toEqual([])
      const own = (await get(byName, ann.token)).json().items.map((i: any) => i.id)
      expect(own.sort()).toEqual([blog.ids.annPublic, blog.ids.annDraft].sort())
      const byEmail = url('posts', undefined, `?filter=${encodeURIComponent('owner.email ~ "ann"')}`)
      expect((await get(byEmail, bob.token)).json().items).toEqual([])
      // A sort by a hidden owner's name is a sort by nothing: the id order decides.
      const sorted = await get(url('posts', undefined, '?sort=owner.name'), bob.token)
      expect(sorted.statusCode).toBe(200)
    })

    test('hidden fields never leave the server except to superusers', async () => {
      for (const path of [url('notes'), url('notes', blog.ids.note), url('notes', undefined, '?fields=*')]) {
        expect((await get(path, bob.token)).body).not.toContain('classified')
      }
      expect((await get(url('notes', blog.ids.note), undefined)).json().internal).toBe('classified')
      const created = await blog.t.request({
        method: 'POST',
        url: url('notes'),
        auth: ann.token,
        payload: { owner: ann.id, text: 'new', internal: 'written, not read' },
      })
      expect(created.statusCode).toBe(201)
      expect(created.json()).not.toHaveProperty('internal')
      expect((await stored(blog.t, 'notes', created.json().id))!.internal).toBe('written, not read')
    })
  })

  describe('mass assignment on sign-up and update', () => {
    const signUpBody = (email: string, extra: object) => ({
      email,
      password: PASSWORD,
      passwordConfirm: PASSWORD,
      ...extra,
    })

    test.for([
      { field: 'verified', value: true },
      { field: 'tokenKey', value: 'chosen' },
      { field: 'created', value: '2020-01-01T00:00:00.000Z' },
      { field: 'updated', value: '2020-01-01T00:00:00.000Z' },
      { field: 'id', value: 'not-a-uuid' },
      { field: 'id', value: "x' or 1=1 --" },
      { field: 'collectionName', value: 'secrets' },
    ])('refuses $field = $value with a 400 naming it and stores nothing', async ({ field, value }) => {
      const email = `mass-${field}@example.com`
      const response = await blog.t.request({
        method: 'POST',
        url: url('users'),
        auth: null,
        payload: signUpBody(email, { [field]: value }),
      })
      problem(response)
      expect(response.json().errors[field]).toBeDefined()
      const found = await get(
        url('users', undefined, `?filter=${encodeURIComponent(`email = "${email}"`)}`),
        undefined,
      )
      expect(found.json().totalItems).toBe(0)
    })

    test('a fresh id is accepted, an existing one is a 400', async () => {
      const id = randomUUID()
      const created = await blog.t.request({
        method: 'POST',
        url: url('users'),
        auth: null,
        payload: signUpBody('chosen-id@example.com', { id }),
      })
      expect(created.statusCode, created.body).toBe(201)
      expect(created.json().id).toBe(id)
      expect(created.json().verified).toBe(false)
      const again = await blog.t.request({
        method: 'POST',
        url: url('users'),
        auth: null,
        payload: signUpBody('same-id@example.com', { id: ann.id }),
      })
      problem(again)
      expect(again.json().errors.id).toBeDefined()
      expect((await stored(blog.t, 'users', ann.id))!.email).toBe('ann@example.com')
    })

    test('a create rule can forbid a field: @request.body.role:isset = false', async () => {
      await blog.t.request({
        method: 'PATCH',
        url: '/api/collections/users',
        payload: { createRule: '@request.body.role:isset = false' },
      })
      try {
        const withRole = await blog.t.request({
          method: 'POST',
          url: url('users'),
          auth: null,
          payload: signUpBody('role@example.com', { role: 'admin' }),
        })
        problem(withRole, 403)
        const found = await get(url('users', undefined, '?filter=email="role@example.com"'), undefined)
        expect(found.json().totalItems).toBe(0)
        const without = await blog.t.request({
          method: 'POST',
          url: url('users'),
          auth: null,
          payload: signUpBody('norole@example.com', {}),
        })
        expect(without.statusCode, without.body).toBe(201)
        expect(without.json().role).toBeNull()
      } finally {
        await blog.t.request({ method: 'PATCH', url: '/api/collections/users', payload: { createRule: '' } })
      }
    })

    test("the update rule forbids changing one's own role, and nothing changes", async () => {
      const before = await stored(blog.t, 'users', ann.id)
      const response = await blog.t.request({
        method: 'PATCH',
        url: url('users', ann.id),
        auth: ann.token,
        payload: { role: 'admin' },
      })
      problem(response, 404)
      expect(await stored(blog.t, 'users', ann.id)).toEqual(before)
    })

    test.for([
      { field: 'verified', value: true },
      { field: 'tokenKey', value: 'x' },
      { field: 'email', value: 'other@example.com' },
      { field: 'id', value: randomUUID() },
      { field: 'created', value: '2020-01-01T00:00:00.000Z' },
    ])("an update of one's own $field is a 400 and changes nothing", async ({ field, value }) => {
      const before = await stored(blog.t, 'users', ann.id)
      const response = await blog.t.request({
        method: 'PATCH',
        url: url('users', ann.id),
        auth: ann.token,
        payload: { [field]: value },
      })
      problem(response)
      expect(response.json().errors[field]).toBeDefined()
      expect(await stored(blog.t, 'users', ann.id)).toEqual(before)
    })

    test('@request.body.owner = @request.auth.id forces ownership on create', async () => {
      const before = (await get(url('posts', undefined, '?perPage=1'), undefined)).json().totalItems
      for (const owner of [bob.id, null, '']) {
        const response = await blog.t.request({
          method: 'POST',
          url: url('posts'),
          auth: ann.token,
          payload: { owner, title: 'forged' },
        })
        problem(response, 403)
      }
      const omitted = await blog.t.request({
        method: 'POST',
        url: url('posts'),
        auth: ann.token,
        payload: { title: 'no owner' },
      })
      problem(omitted, 403)
      expect((await get(url('posts', undefined, '?perPage=1'), undefined)).json().totalItems).toBe(before)
    })
  })

  describe("other users' ids", () => {
    test.for([
      {
        method: 'PATCH' as const,
        collection: 'posts',
        name: 'annDraft',
        payload: { owner: 'bob', title: 'mine now' },
      },
      { method: 'DELETE' as const, collection: 'posts', name: 'annDraft' },
      { method: 'PATCH' as const, collection: 'comments', name: 'onAnnDraft', payload: { body: 'defaced' } },
      { method: 'DELETE' as const, collection: 'comments', name: 'onAnnDraft' },
      { method: 'PATCH' as const, collection: 'users', name: 'ann', payload: { name: 'pwned' } },
      { method: 'PATCH' as const, collection: 'notes', name: 'note', payload: { text: 'defaced' } },
      { method: 'DELETE' as const, collection: 'notes', name: 'note' },
    ])(
      '$method of $collection/$name by another user is a 404 and changes nothing',
      async ({ method, collection, name, payload }) => {
        const id = name === 'ann' ? ann.id : blog.ids[name]!
        const body = payload && 'owner' in payload ? { ...payload, owner: bob.id } : payload
        const before = await stored(blog.t, collection, id)
        const response = await blog.t.request({
          method,
          url: url(collection, id),
          auth: bob.token,
          payload: body,
        })
        problem(response, 404)
        expect(await stored(blog.t, collection, id)).toEqual(before)
      },
    )
  })
})
