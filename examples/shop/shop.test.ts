import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../../packages/server/src/test-support/accounts.js'
import type { TestApp } from '../../packages/server/src/test-support/app.js'
import {
  postgresSkipReason,
  shouldSkip,
  testDialects,
} from '../../packages/server/src/test-support/databases.js'
import { createProjectApp } from '../../packages/server/src/test-support/project.js'

const file = fileURLToPath(new URL('./plinth.config.ts', import.meta.url))
const schema = JSON.parse(readFileSync(new URL('./schema.json', import.meta.url), 'utf8'))
const PASSWORD = 'shopper password 1'

describe.each(testDialects)('the shop example on %s', (kind) => {
  let t: TestApp
  let customer: { id: string; token: string }
  let other: { id: string; token: string }
  let lamp: string

  async function signUpCustomer(email: string) {
    const account = { collection: 'customers', password: PASSWORD }
    const id = await signUp(t, email, account)
    const token = (await passwordSignIn(t, email, account)).json().token as string
    return { id, token }
  }

  function order(who: { id: string; token: string }, product: string, quantity: number) {
    return t.request({
      method: 'POST',
      url: '/api/collections/orders/records',
      auth: who.token,
      payload: { customer: who.id, product, quantity },
    })
  }

  async function stockOf(product: string): Promise<number> {
    return (await t.request({ method: 'GET', url: `/api/collections/products/records/${product}` })).json()
      .stock
  }

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createProjectApp(kind, schema.collections, { file })
    customer = await signUpCustomer('ada@example.com')
    other = await signUpCustomer('grace@example.com')
    const created = await t.request({
      method: 'POST',
      url: '/api/collections/products/records',
      payload: { name: 'Desk lamp', price: 39, stock: 3 },
    })
    lamp = created.json().id
  })
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterAll(async () => t?.close())

  test('placing an order takes the stock in the same transaction', async () => {
    const placed = await order(customer, lamp, 2)
    expect(placed.statusCode, placed.body).toBe(201)
    expect(placed.json().status).toBe('placed')
    expect(await stockOf(lamp)).toBe(1)
  })

  test('an order over the stock is refused and changes nothing', async () => {
    const refused = await order(other, lamp, 5)
    expect(refused.statusCode).toBe(409)
    expect(refused.json().errors.quantity.message).toBe('only 1 left')
    expect(await stockOf(lamp)).toBe(1)
    const mine = await t.request({ method: 'GET', url: '/api/collections/orders/records', auth: other.token })
    expect(mine.json().totalItems).toBe(0)
  })

  test('customers cannot order for someone else or set the status', async () => {
    const forOther = await t.request({
      method: 'POST',
      url: '/api/collections/orders/records',
      auth: other.token,
      payload: { customer: customer.id, product: lamp, quantity: 1 },
    })
    expect(forOther.statusCode).toBe(403)
    const withStatus = await t.request({
      method: 'POST',
      url: '/api/collections/orders/records',
      auth: other.token,
      payload: { customer: other.id, product: lamp, quantity: 1, status: 'shipped' },
    })
    expect(withStatus.statusCode).toBe(403)
    expect(await stockOf(lamp)).toBe(1)
  })

  test('only the shop ships an order, once', async () => {
    const placed = (await order(other, lamp, 1)).json()
    const byCustomer = await t.request({
      method: 'POST',
      url: `/api/orders/${placed.id}/ship`,
      auth: other.token,
    })
    expect(byCustomer.statusCode).toBe(403)
    const anonymous = await t.request({ method: 'POST', url: `/api/orders/${placed.id}/ship`, auth: null })
    expect(anonymous.statusCode).toBe(403)
    const shipped = await t.request({ method: 'POST', url: `/api/orders/${placed.id}/ship` })
    expect(shipped.statusCode, shipped.body).toBe(200)
    expect(shipped.json()).toMatchObject({ status: 'shipped' })
    expect(shipped.json().shippedAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    const again = await t.request({ method: 'POST', url: `/api/orders/${placed.id}/ship` })
    expect(again.statusCode).toBe(409)
    const missing = await t.request({ method: 'POST', url: '/api/orders/not-an-order/ship' })
    expect(missing.statusCode).toBe(404)
  })

  test('the nightly job asks to restock what runs low, once a day', async () => {
    const { jobs } = t.app.plinth
    const restockRequests = async () =>
      (await t.request({ method: 'GET', url: '/api/collections/restock_requests/records' })).json().items
    for (let run = 0; run < 2; run++) {
      expect(await jobs.enqueue('requestRestock', {})).toEqual(expect.any(String))
      await jobs.drain()
    }
    const requests = await restockRequests()
    expect(requests).toEqual([expect.objectContaining({ product: lamp, stock: 0 })])
    const listed = await t.request({ method: 'GET', url: '/api/jobs?name=requestRestock' })
    expect(listed.statusCode, listed.body).toBe(200)
    expect(listed.json().items.every((job: { state: string }) => job.state === 'succeeded')).toBe(true)
  })
})
