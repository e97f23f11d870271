import type { LightMyRequestResponse } from 'fastify'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type Core, createCore } from '../core/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

/** How long a running server may take to learn a schema change made elsewhere. */
const WITHIN_MS = 1500

describe.each(testDialects)('schema changes made elsewhere on %s', (kind) => {
  let t: TestApp
  let elsewhere: Core | undefined
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    // What `plinth schema import` and every other node do: their own connection, their own registry.
    elsewhere = await createCore(t.config)
  })
  afterEach(async () => {
    await elsewhere?.close()
    await t?.close()
  })

  /** Asks again until the answer is the expected one or the deadline passes; returns the last answer. */
  async function eventually(
    ask: () => Promise<LightMyRequestResponse>,
    isExpected: (response: LightMyRequestResponse) => boolean,
  ): Promise<LightMyRequestResponse> {
    const deadline = Date.now() + WITHIN_MS
    for (;;) {
      const response = await ask()
      if (isExpected(response) || Date.now() > deadline) return response
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  const listNotes = () => t.request({ method: 'GET', url: '/api/collections/notes/records' })
  const viewNotes = () => t.request({ method: 'GET', url: '/api/collections/notes' })
  const fieldNames = (response: LightMyRequestResponse) =>
    response.statusCode === 200 ? response.json().fields.map((f: { name: string }) => f.name) : []

  test('a create, a change, a reverted migration and a delete each reach the running server', async () => {
    expect((await listNotes()).statusCode).toBe(404)

    await elsewhere!.collections.create({ name: 'notes', fields: [{ name: 'body', type: 'text' }] })
    expect((await eventually(listNotes, (r) => r.statusCode === 200)).statusCode).toBe(200)

    const before = elsewhere!.collections.get('notes')
    await elsewhere!.collections.update('notes', {
      fields: [...before.fields.filter((f) => !f.system), { name: 'title', type: 'text' }],
    })
    expect(fieldNames(await eventually(viewNotes, (r) => fieldNames(r).includes('title')))).toContain('title')
    const created = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      payload: { title: 'from the new field', body: 'b' },
    })
    expect(created.statusCode, created.body).toBe(201)

    await elsewhere!.collections.migrateDown()
    expect(fieldNames(await eventually(viewNotes, (r) => !fieldNames(r).includes('title')))).not.toContain(
      'title',
    )

    await elsewhere!.collections.delete('notes')
    expect((await eventually(listNotes, (r) => r.statusCode === 404)).statusCode).toBe(404)
    const recreate = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'notes', fields: [{ name: 'body', type: 'text' }] },
    })
    expect(recreate.statusCode, recreate.body).toBe(201)
  })
})
