import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import {
  type BackRelationBlog,
  type BlogCaller,
  setupBackRelations,
  tokenOf,
} from '../test-support/back-relations.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

/**
 * `<collection>_via_<field>` in filters, sorts and rules: the records of `collection` whose
 * relation `field` points to the record, as in PocketBase.
 */
describe.each(testDialects)('back-relations in filters on %s', (kind) => {
  let t: TestApp
  let blog: BackRelationBlog

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    blog = await setupBackRelations(t)
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  function list(collection: string, query: Record<string, string>, caller: BlogCaller = 'anonymous') {
    const search = new URLSearchParams({ perPage: '100', ...query })
    return t.request({
      method: 'GET',
      url: `/api/collections/${collection}/records?${search}`,
      auth: tokenOf(t, blog, caller),
    })
  }

  async function titles(filter: string, caller: BlogCaller = 'anonymous', sort = 'title'): Promise<string[]> {
    const response = await list('posts', { filter, sort }, caller)
    expect(response.statusCode, response.body).toBe(200)
    return response.json().items.map((post: { title: string }) => post.title)
  }

  test('?~ holds when any record pointing back matches', async () => {
    expect(await titles('comments_via_post.message ?~ "thanks"')).toEqual(['Hello'])
    expect(await titles('comments_via_post.author.name ?= "Bob"')).toEqual(['Hello'])
    expect(await titles('comments_via_post.message ?~ "nobody wrote this"')).toEqual([])
  })

  test('the plain operator holds when every record pointing back matches, and there is one', async () => {
    expect(await titles('comments_via_post.author.name = "Ann"')).toEqual(['Busy'])
    expect(await titles('comments_via_post.author.name != "Bob"')).toEqual(['Busy'])
  })

  test(':length counts the records pointing back that the caller may view', async () => {
    const counts = async (caller: BlogCaller) => ({
      none: await titles('comments_via_post.id:length = 0', caller),
      two: await titles('comments_via_post.id:length = 2', caller),
      three: await titles('comments_via_post.id:length = 3', caller),
    })
    // Bob wrote the hidden comment on Busy, so he and superusers count three there.
    expect(await counts('anonymous')).toEqual({ none: ['Quiet'], two: ['Busy', 'Hello'], three: [] })
    expect(await counts('ann')).toEqual({ none: ['Quiet'], two: ['Busy', 'Hello'], three: [] })
    expect(await counts('bob')).toEqual({ none: ['Quiet'], two: ['Hello'], three: ['Busy'] })
    expect(await counts('superuser')).toEqual({ none: ['Quiet'], two: ['Hello'], three: ['Busy'] })
  })

  test("a record the back-related collection's view rule hides is not matched, except by who may view it", async () => {
    const filter = 'comments_via_post.message ?~ "privately"'
    expect(await titles(filter, 'anonymous')).toEqual([])
    expect(await titles(filter, 'ann')).toEqual([])
    expect(await titles(filter, 'bob')).toEqual(['Busy'])
    expect(await titles(filter, 'superuser')).toEqual(['Busy'])
  })

  test('a multi relation pointing back', async () => {
    expect(await titles('tags_via_posts.label ?= "tech"')).toEqual(['Busy'])
    expect(await titles('tags_via_posts.label ?= "news"')).toEqual(['Busy', 'Hello'])
    expect(await titles('tags_via_posts.label = "news"')).toEqual(['Hello'])
    expect(await titles('tags_via_posts.id:length = 0')).toEqual(['Quiet'])
  })

  test('a unique relation pointing back is one value: it compares and sorts like a field', async () => {
    const users = async (query: Record<string, string>) => {
      const response = await list('users', query, 'superuser')
      expect(response.statusCode, response.body).toBe(200)
      return response.json().items.map((user: { name: string }) => user.name)
    }
    expect(await users({ filter: 'profiles_via_user.bio = "writes a lot"' })).toEqual(['Ann'])
    expect(await users({ filter: 'profiles_via_user.bio = null' })).toEqual(['Bob'])
    expect(await users({ sort: '-profiles_via_user.bio' })).toEqual(['Ann', 'Bob'])
  })

  test('paths go on after a back-relation, and back again', async () => {
    expect(await titles('comments_via_post.post.title ?= "Hello"')).toEqual(['Hello'])
    const users = await list(
      'users',
      { filter: 'comments_via_author.post.tags_via_posts.label ?= "tech"', sort: 'name' },
      'anonymous',
    )
    // Bob's only comment on a post tagged tech is hidden from anonymous callers.
    expect(users.json().items.map((user: { name: string }) => user.name)).toEqual(['Ann'])
  })

  test('a rule reads back-relations: a thread is seen by its members', async () => {
    const topics = async (caller: BlogCaller) => {
      const response = await list('threads', { sort: 'topic' }, caller)
      expect(response.statusCode, response.body).toBe(200)
      return response.json().items.map((thread: { topic: string }) => thread.topic)
    }
    expect(await topics('anonymous')).toEqual([])
    expect(await topics('ann')).toEqual(['Ann only', 'Shared'])
    expect(await topics('bob')).toEqual(['Shared'])
    expect(await topics('superuser')).toEqual(['Ann only', 'Shared'])
    const hidden = await t.request({
      method: 'GET',
      url: `/api/collections/threads/records/${blog.threads.annThread.id}`,
      auth: blog.bob.token,
    })
    expect(hidden.statusCode).toBe(404)
  })

  test('superusers may follow hidden relations and collections only they may view', async () => {
    expect(await titles('comments_via_shadow.message ?= "thanks"', 'superuser')).toEqual(['Quiet'])
    expect(await titles('drafts_via_post.text ?= "unfinished"', 'superuser')).toEqual(['Quiet'])
  })

  const refused: Array<[string, string, BlogCaller, number]> = [
    ['the back-relation alone', 'comments_via_post ?= "x"', 'anonymous', 17],
    ['an unknown collection', 'nope_via_post.id ?= "x"', 'anonymous', 0],
    ['an unknown field of the collection', 'comments_via_nope.id ?= "x"', 'anonymous', 0],
    ['a field that is not a relation', 'comments_via_message.id ?= "x"', 'anonymous', 0],
    ['a relation to another collection', 'comments_via_author.id ?= "x"', 'anonymous', 0],
    ['a hidden relation', 'comments_via_shadow.id ?= "x"', 'ann', 0],
    ['a collection only superusers may view', 'drafts_via_post.id ?= "x"', 'ann', 0],
    ['a prototype key as the collection', '__proto___via_post.id ?= "x"', 'anonymous', 0],
    ['constructor as the field', 'comments_via_constructor.id ?= "x"', 'anonymous', 0],
    ['a field the back-related collection lacks', 'comments_via_post.nope ?= "x"', 'anonymous', 18],
    [
      'more than six relations',
      'comments_via_post.post.comments_via_post.post.comments_via_post.post.comments_via_post.id ?= "x"',
      'anonymous',
      69,
    ],
  ]

  test.each(refused)('%s is a 400 with the position', async (_name, filter, caller, position) => {
    const response = await list('posts', { filter }, caller)
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({ position, data: { filter: { code: 'invalid_filter' } } })
  })

  test('an injection string is a value, and matches nothing', async () => {
    expect(await titles(`comments_via_post.message ?= "' OR 1=1 --"`)).toEqual([])
    expect(await titles('comments_via_post.message ?~ "%"')).toEqual([])
  })

  test('sorting by a back-relation that holds several records is a 400', async () => {
    const response = await list('posts', { sort: 'comments_via_post.message' })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.sort.code).toBe('invalid_sort')
  })
})
