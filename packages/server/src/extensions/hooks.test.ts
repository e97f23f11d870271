import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { createProjectApp } from '../test-support/project.js'

const collections = [
  { name: 'hook_log', type: 'base', fields: [{ name: 'entry', type: 'text' }] },
  {
    name: 'products',
    type: 'base',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'stock', type: 'number', min: 0 },
      { name: 'slug', type: 'text' },
    ],
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: '',
    deleteRule: '',
  },
  {
    name: 'reviews',
    type: 'base',
    fields: [
      { name: 'product', type: 'relation', collection: 'products', maxSelect: 1, onDelete: 'cascade' },
      { name: 'text', type: 'text' },
    ],
    listRule: '',
    viewRule: '',
    createRule: '',
    deleteRule: '',
  },
  {
    name: 'replies',
    type: 'base',
    fields: [{ name: 'review', type: 'relation', collection: 'reviews', maxSelect: 1, onDelete: 'cascade' }],
    listRule: '',
    createRule: '',
  },
]

// Hooks leave their traces in hook_log, read back through the API.
const source = `
import { defineConfig, HookError } from 'plinth'

const trace = (records, entry) => records.asSuperuser().create('hook_log', { entry })

export default defineConfig({
  hooks: {
    products: {
      async beforeCreate({ record }) {
        if (record.title === 'refuse') throw new HookError(422, 'Refused by the shop.', { title: 'not this one' })
        if (record.title === 'crash') throw new Error('a bug in the hook with a secret detail')
        if (record.title === 'invalid') record.stock = -5
        record.slug = String(record.title).toLowerCase().replaceAll(' ', '-')
      },
      async afterCreate({ record, records }) {
        await trace(records, 'afterCreate ' + record.slug)
        if (record.title === 'after fails') throw new Error('after-hook failure')
      },
      async beforeUpdate({ record, previous }) {
        if (previous.stock > 0 && record.stock === 0 && record.title !== 'sold out ok')
          throw new HookError(409, 'Stock cannot drop to zero here.')
        record.slug = String(record.title).toLowerCase().replaceAll(' ', '-')
      },
      async afterUpdate({ record, previous, records }) {
        await trace(records, 'afterUpdate ' + previous.slug + ' -> ' + record.slug)
      },
      async beforeDelete({ record }) {
        if (record.title === 'keep') throw new HookError(403, 'This product stays.')
      },
      async afterDelete({ record, records, isCascade }) {
        await trace(records, 'afterDelete products ' + record.title + ' ' + isCascade)
      },
    },
    reviews: {
      async beforeDelete({ record, isCascade }) {
        if (record.text === 'pinned' && isCascade) throw new HookError(409, 'A pinned review blocks the delete.')
      },
      async afterDelete({ record, records, isCascade }) {
        await trace(records, 'afterDelete reviews ' + record.text + ' ' + isCascade)
      },
    },
    replies: {
      async afterDelete({ record, records, isCascade }) {
        await trace(records, 'afterDelete replies ' + record.id + ' ' + isCascade)
      },
    },
  },
})
`

describe.each(testDialects)('record hooks from plinth.config.ts on %s', (kind) => {
  let t: TestApp
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createProjectApp(kind, collections, source)
  })
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterAll(async () => t?.close())

  async function log(): Promise<string[]> {
    const response = await t.request({
      method: 'GET',
      url: '/api/collections/hook_log/records?perPage=500&sort=created',
    })
    return response.json().items.map((item: { entry: string }) => item.entry)
  }

  async function count(collection: string, filter = ''): Promise<number> {
    const query = filter ? `?filter=${encodeURIComponent(filter)}` : ''
    return (await t.request({ method: 'GET', url: `/api/collections/${collection}/records${query}` })).json()
      .totalItems
  }

  async function create(collection: string, payload: Record<string, unknown>, auth: string | null = null) {
    return t.request({ method: 'POST', url: `/api/collections/${collection}/records`, payload, auth })
  }

  test('a before-hook changes the record, and the after-hook sees it committed', async () => {
    const created = await create('products', { title: 'Blue Shirt', stock: 3 })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json().slug).toBe('blue-shirt')
    expect(await log()).toContain('afterCreate blue-shirt')
  })

  test('HookError answers its status with the fields, and nothing is written', async () => {
    const before = await count('products')
    const refused = await create('products', { title: 'refuse' })
    expect(refused.statusCode).toBe(422)
    expect(refused.headers['content-type']).toContain('application/problem+json')
    expect(refused.json()).toMatchObject({
      type: 'urn:plinth:error:refused',
      status: 422,
      detail: 'Refused by the shop.',
      errors: { title: { code: 'refused', message: 'not this one' } },
    })
    expect(await count('products')).toBe(before)
  })

  test('any other throw is a 500 without detail, and nothing is written', async () => {
    const before = await count('products')
    const crashed = await create('products', { title: 'crash' })
    expect(crashed.statusCode).toBe(500)
    expect(crashed.body).not.toContain('secret detail')
    expect(crashed.json().instance).toBe(crashed.headers['x-request-id'])
    expect(await count('products')).toBe(before)
  })

  test('a record a hook made invalid is refused by validation', async () => {
    const before = await count('products')
    const invalid = await create('products', { title: 'invalid', stock: 1 })
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json().errors.stock.code).toBeTypeOf('string')
    expect(await count('products')).toBe(before)
  })

  test('a failing after-hook does not fail the committed write', async () => {
    const created = await create('products', { title: 'after fails' })
    expect(created.statusCode).toBe(201)
    expect(await count('products', 'title = "after fails"')).toBe(1)
  })

  test('update hooks see the previous record and may refuse', async () => {
    const { id } = (await create('products', { title: 'Lamp', stock: 2 })).json()
    const refused = await t.request({
      method: 'PATCH',
      url: `/api/collections/products/records/${id}`,
      payload: { stock: 0 },
      auth: null,
    })
    expect(refused.statusCode).toBe(409)
    const renamed = await t.request({
      method: 'PATCH',
      url: `/api/collections/products/records/${id}`,
      payload: { title: 'Desk Lamp' },
      auth: null,
    })
    expect(renamed.statusCode).toBe(200)
    expect(renamed.json()).toMatchObject({ slug: 'desk-lamp', stock: 2 })
    expect(await log()).toContain('afterUpdate lamp -> desk-lamp')
  })

  test('batch: a refusing hook undoes every request, and after-hooks wait for the commit', async () => {
    const before = (await log()).length
    const batch = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: '/api/collections/products/records', body: { title: 'Batch One' } },
          { method: 'POST', url: '/api/collections/products/records', body: { title: 'refuse' } },
        ],
      },
    })
    expect(batch.statusCode).toBe(400)
    expect(batch.json()).toMatchObject({
      failedIndex: 1,
      failedStatus: 422,
      failedCode: 'refused',
    })
    expect(await count('products', 'title = "Batch One"')).toBe(0)
    expect((await log()).length).toBe(before)
    const ok = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: '/api/collections/products/records', body: { title: 'Batch Two' } },
          { method: 'POST', url: '/api/collections/products/records', body: { title: 'Batch Three' } },
        ],
      },
    })
    expect(ok.statusCode, ok.body).toBe(200)
    expect(await log()).toEqual(expect.arrayContaining(['afterCreate batch-two', 'afterCreate batch-three']))
  })

  test('a delete cascaded by foreign keys runs the hooks of every record it removes', async () => {
    const product = (await create('products', { title: 'Chair' })).json()
    const review = (await create('reviews', { product: product.id, text: 'comfy' })).json()
    const reply = (await create('replies', { review: review.id })).json()
    const deleted = await t.request({
      method: 'DELETE',
      url: `/api/collections/products/records/${product.id}`,
      auth: null,
    })
    expect(deleted.statusCode).toBe(204)
    const entries = await log()
    expect(entries).toEqual(
      expect.arrayContaining([
        `afterDelete replies ${reply.id} true`,
        'afterDelete reviews comfy true',
        'afterDelete products Chair false',
      ]),
    )
    expect(await count('reviews', `id = "${review.id}"`)).toBe(0)
  })

  test('a before-hook of a cascaded record can refuse the whole delete', async () => {
    const product = (await create('products', { title: 'Table' })).json()
    await create('reviews', { product: product.id, text: 'pinned' })
    const refused = await t.request({
      method: 'DELETE',
      url: `/api/collections/products/records/${product.id}`,
      auth: null,
    })
    expect(refused.statusCode).toBe(409)
    expect(await count('products', `id = "${product.id}"`)).toBe(1)
    expect(await count('reviews', `product = "${product.id}"`)).toBe(1)
  })

  test('a before-delete hook refuses, and the record stays', async () => {
    const { id } = (await create('products', { title: 'keep' })).json()
    const refused = await t.request({
      method: 'DELETE',
      url: `/api/collections/products/records/${id}`,
      auth: null,
    })
    expect(refused.statusCode).toBe(403)
    expect(await count('products', `id = "${id}"`)).toBe(1)
  })

  test('the records engine runs the same hooks for code that is not HTTP', async () => {
    const { records } = t.app.plinth
    const { superuser } = await import('../identity/index.js')
    const created = await records.create(superuser, 'products', { title: 'From Code' })
    expect(created.record.slug).toBe('from-code')
    expect(await log()).toContain('afterCreate from-code')
  })
})
