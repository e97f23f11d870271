import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import {
  type BackRelationBlog,
  type BlogCaller,
  setupBackRelations,
  tokenOf,
} from '../test-support/back-relations.js'
import { createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openStream, setSubscriptions } from '../test-support/realtime.js'
import { listen } from '../test-support/realtime-blog.js'

type Json = Record<string, any>

const POSTS = '/api/collections/posts/records'

/** `expand=<collection>_via_<field>`: the records pointing back, each under its view rule, as in PocketBase. */
describe.each(testDialects)('back-relations in expand on %s', (kind) => {
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

  async function read(url: string, caller: BlogCaller = 'anonymous'): Promise<Json> {
    const response = await t.request({ method: 'GET', url, auth: tokenOf(t, blog, caller) })
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  const messages = (post: Json) =>
    (post.expand?.comments_via_post ?? []).map((comment: Json) => comment.message) as string[]

  test.each<[BlogCaller, string[]]>([
    ['anonymous', ['first', 'second']],
    ['ann', ['first', 'second']],
    ['bob', ['hi, privately', 'first', 'second']],
    ['superuser', ['hi, privately', 'first', 'second']],
  ])(
    '%s sees the comments pointing back that its view rule shows, oldest first',
    async (caller, expected) => {
      const busy = await read(`${POSTS}/${blog.posts.busy.id}?expand=comments_via_post`, caller)
      expect(messages(busy)).toEqual(expected)
      for (const comment of busy.expand.comments_via_post) {
        expect(comment).toMatchObject({ post: blog.posts.busy.id, collectionName: 'comments' })
        // Hidden fields stay hidden in expand, except to superusers.
        expect(Object.hasOwn(comment, 'shadow')).toBe(caller === 'superuser')
      }
    },
  )

  test('a list expands each item, and an item nothing points to has no entry', async () => {
    const page = await read(`${POSTS}?expand=comments_via_post,tags_via_posts&sort=title`)
    const byTitle = new Map(page.items.map((post: Json) => [post.title, post]))
    expect(messages(byTitle.get('Hello') as Json)).toEqual(['hi there', 'thanks'])
    expect((byTitle.get('Busy') as Json).expand.tags_via_posts.map((tag: Json) => tag.label)).toEqual([
      'news',
      'tech',
    ])
    expect(byTitle.get('Quiet')).not.toHaveProperty('expand')
  })

  test('a unique relation pointing back expands as one record', async () => {
    const users = await read('/api/collections/users/records?expand=profiles_via_user&sort=name')
    const [ann, bob] = users.items
    expect(ann.expand.profiles_via_user).toMatchObject({ id: blog.annProfile.id, bio: 'writes a lot' })
    expect(bob).not.toHaveProperty('expand')
  })

  test('expand goes on through the records pointing back, and back again', async () => {
    const hello = await read(
      `${POSTS}/${blog.posts.hello.id}?expand=comments_via_post.author.comments_via_author`,
    )
    const [hi] = hello.expand.comments_via_post
    expect(hi.expand.author).toMatchObject({ id: blog.bob.id, name: 'Bob' })
    // Bob's hidden comment is not his to show anonymous callers, even from his own record.
    expect(hi.expand.author.expand.comments_via_author.map((comment: Json) => comment.message)).toEqual([
      'hi there',
    ])
  })

  test('a collection only superusers may view expands for superusers only, and is no error for others', async () => {
    const quiet = `${POSTS}/${blog.posts.quiet.id}?expand=drafts_via_post`
    expect(await read(quiet, 'ann')).not.toHaveProperty('expand')
    expect((await read(quiet, 'superuser')).expand.drafts_via_post).toEqual([
      expect.objectContaining({ id: blog.draft.id, text: 'unfinished' }),
    ])
  })

  test('fields narrows the records pointing back', async () => {
    const hello = await read(
      `${POSTS}/${blog.posts.hello.id}?expand=comments_via_post&fields=id,expand.comments_via_post.message`,
    )
    expect(hello).toEqual({
      id: blog.posts.hello.id,
      expand: { comments_via_post: [{ message: 'hi there' }, { message: 'thanks' }] },
    })
  })

  test.each<[string, string, BlogCaller]>([
    ['an unknown collection', 'nope_via_post', 'anonymous'],
    ['an unknown field', 'comments_via_nope', 'anonymous'],
    ['a relation to another collection', 'comments_via_author', 'anonymous'],
    ['a hidden relation', 'comments_via_shadow', 'ann'],
    ['a prototype key', '__proto___via_post', 'anonymous'],
    ['constructor', 'constructor_via_post', 'anonymous'],
    ['an injection string', "comments_via_post' OR 1=1 --", 'anonymous'],
    [
      'a path deeper than six',
      'comments_via_post.post.comments_via_post.post.comments_via_post.post.tags_via_posts',
      'anonymous',
    ],
  ])('%s is a 400 naming expand', async (_name, expand, caller) => {
    const response = await t.request({
      method: 'GET',
      url: `${POSTS}?expand=${encodeURIComponent(expand)}`,
      auth: tokenOf(t, blog, caller),
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().errors.expand.code).toBe('invalid_expand')
  })

  test('a hidden relation pointing back expands for superusers', async () => {
    const quiet = await read(`${POSTS}/${blog.posts.quiet.id}?expand=comments_via_shadow`, 'superuser')
    expect(quiet.expand.comments_via_shadow.map((comment: Json) => comment.message)).toEqual(['thanks'])
  })

  test('at most 1,000 records pointing back are expanded per record, the oldest', async () => {
    const crowded = await createRecord(t, 'posts', { title: 'Crowded' })
    for (let first = 0; first < 1001; first += 100) {
      const requests = Array.from({ length: Math.min(100, 1001 - first) }, (_, offset) => ({
        method: 'POST',
        url: '/api/collections/comments/records',
        body: { post: crowded.id, message: `#${first + offset}` },
      }))
      const batch = await t.request({ method: 'POST', url: '/api/batch', payload: { requests } })
      expect(batch.statusCode, batch.body).toBe(200)
    }
    const post = await read(`${POSTS}/${crowded.id}?expand=comments_via_post`)
    const expanded = messages(post)
    expect(expanded).toHaveLength(1000)
    expect(expanded[0]).toBe('#0')
    expect(expanded.at(-1)).toBe('#999')
    const count = await read(
      `${POSTS}?filter=${encodeURIComponent(`id = "${crowded.id}" && comments_via_post.id:length = 1001`)}`,
    )
    expect(count.totalItems).toBe(1)
    await t.request({ method: 'DELETE', url: `${POSTS}/${crowded.id}` })
  }, 60_000)

  test('realtime events expand and filter by back-relations', async () => {
    const base = await listen(t)
    const stream = await openStream(base)
    const options = encodeURIComponent(
      JSON.stringify({ query: { filter: 'comments_via_post.message ?~ "hi"', expand: 'comments_via_post' } }),
    )
    const subscribed = await setSubscriptions(
      base,
      { clientId: stream.clientId, subscriptions: [`posts/*?options=${options}`] },
      blog.ann.token,
    )
    expect(subscribed.status).toBe(204)
    for (const post of [blog.posts.quiet, blog.posts.hello])
      await t.request({ method: 'PATCH', url: `${POSTS}/${post.id}`, payload: { title: post.title } })
    await stream.until(() => stream.events().length === 1)
    await t.request({ method: 'PATCH', url: `${POSTS}/${blog.posts.quiet.id}`, payload: { title: 'Quiet' } })
    const marker = await createRecord(t, 'comments', { post: blog.posts.quiet.id, message: 'hi, late' })
    const last = await t.request({
      method: 'PATCH',
      url: `${POSTS}/${blog.posts.quiet.id}`,
      payload: { title: 'Quiet' },
    })
    // The filter is evaluated when the event is delivered, so the update made just before the
    // marker comment may be delivered too, already seeing it; no quiet event may come without it.
    await stream.until(() => stream.events().at(-1)?.record.updated === last.json().updated)
    const [hello, ...quiet] = stream.events()
    expect(hello!.record).toMatchObject({ id: blog.posts.hello.id })
    expect(messages(hello!.record)).toEqual(['hi there', 'thanks'])
    expect(quiet.length).toBeGreaterThanOrEqual(1)
    for (const event of quiet) {
      expect(event.record.id).toBe(blog.posts.quiet.id)
      expect(event.record.expand.comments_via_post.map((comment: Json) => comment.id)).toEqual([marker.id])
    }
    stream.close()
    await t.request({ method: 'DELETE', url: `/api/collections/comments/records/${marker.id}` })
  })
})
