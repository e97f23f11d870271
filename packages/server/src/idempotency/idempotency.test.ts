import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, type TestApp } from '../test-support/app.js'
import { countRecords, setupBlog } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { IDEMPOTENCY_TABLE } from './index.js'

const posts = '/api/collections/posts/records'

describe.each(testDialects)('Idempotency-Key on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await setupBlog(t)
  })
  afterEach(async () => t?.close())
  const create = (key: string, payload: object) =>
    t.request({ method: 'POST', url: posts, payload, headers: { 'idempotency-key': key } })

  test('a retried create returns the first answer and creates once', async () => {
    const first = await create('k1', { title: 'once' })
    const retry = await create('k1', { title: 'once' })
    expect(first.statusCode).toBe(201)
    expect(retry.statusCode).toBe(201)
    expect(retry.json()).toEqual(first.json())
    expect(retry.headers.location).toBe(first.headers.location)
    expect(retry.headers.etag).toBe(first.headers.etag)
    expect(retry.headers['idempotent-replayed']).toBe('true')
    expect(await countRecords(t, 'posts')).toBe(1)
  })

  test('the same key with another body is a 422', async () => {
    await create('k2', { title: 'a' })
    const response = await create('k2', { title: 'b' })
    expect(response.statusCode).toBe(422)
    expect(response.json().type).toBe('urn:plinth:error:idempotency_mismatch')
    expect(await countRecords(t, 'posts')).toBe(1)
  })

  test('a retry while the first request still runs is a 409', async () => {
    const first = create('k3', { title: 'slow' })
    const second = create('k3', { title: 'slow' })
    const statuses = (await Promise.all([first, second])).map((r) => r.statusCode).sort()
    // Either the retry found the first one running (409) or arrived after it finished (replayed 201).
    expect([
      [201, 201],
      [201, 409],
    ]).toContainEqual(statuses)
    expect(await countRecords(t, 'posts')).toBe(1)
  })

  test('a running claim answers 409', async () => {
    await create('k4', { title: 'x' })
    await t.app.plinth.dialect.db.updateTable(IDEMPOTENCY_TABLE).set({ state: 'running' }).execute()
    const response = await create('k4', { title: 'x' })
    expect(response.statusCode).toBe(409)
    expect(response.json().type).toBe('urn:plinth:error:idempotency_in_flight')
  })

  test('failed requests are replayed too, with the same problem', async () => {
    const first = await create('k5', { title: 42 })
    const retry = await create('k5', { title: 42 })
    expect(first.statusCode).toBe(400)
    expect(retry.statusCode).toBe(400)
    expect(retry.json().errors).toEqual(first.json().errors)
  })

  test('keys are scoped to the caller and the path', async () => {
    await create('k6', { title: 'mine' })
    const other = await t.request({
      method: 'POST',
      url: '/api/collections/authors/records',
      payload: { name: 'x' },
      headers: { 'idempotency-key': 'k6' },
    })
    expect(other.statusCode).toBe(201)
  })

  test.each([['x'.repeat(256)], ['with space'], ['']])('an invalid key %# is a 400', async (key) => {
    const response = await create(key, { title: 'x' })
    expect(response.statusCode).toBe(400)
    expect(await countRecords(t, 'posts')).toBe(0)
  })

  test('keys older than a day are forgotten', async () => {
    await create('k7', { title: 'old' })
    await t.app.plinth.dialect.db
      .updateTable(IDEMPOTENCY_TABLE)
      .set({ created: Date.now() - 25 * 3600 * 1000 })
      .execute()
    const again = await create('k7', { title: 'old' })
    expect(again.statusCode).toBe(400)
    expect(again.json().errors.title.code).toBe('not_unique')
  })
  test('answers that carry tokens are never kept, in either token mode', async () => {
    const signIn = (headers: Record<string, string>) =>
      t.request({
        method: 'POST',
        url: '/api/collections/_superusers/auth-with-password',
        auth: null,
        payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD },
        headers: { 'idempotency-key': 'sign-in', ...headers },
      })
    const modes: Record<string, string>[] = [{}, { 'x-plinth-auth': 'cookie' }]
    for (const headers of modes) {
      const first = await signIn(headers)
      const again = await signIn(headers)
      expect(first.statusCode, first.body).toBe(200)
      expect(again.statusCode, again.body).toBe(200)
      expect(again.headers['idempotent-replayed']).toBeUndefined()
    }
    const kept = await t.app.plinth.dialect.db.selectFrom(IDEMPOTENCY_TABLE).select('body').execute()
    expect(kept).toEqual([])
  })
})
