import { defineConfig, HookError } from 'plinth'

export default defineConfig({
  hooks: {
    orders: {
      // Inside the order's transaction: the stock check and the decrement commit with
      // the order or not at all, so two customers cannot buy the last item twice.
      async beforeCreate({ record, records }) {
        const staff = records.asSuperuser()
        const product = await staff.view('products', String(record.product))
        const stock = Number(product.stock ?? 0)
        const quantity = Number(record.quantity)
        if (stock < quantity)
          throw new HookError(409, 'Not enough stock for this order.', { quantity: `only ${stock} left` })
        await staff.update('products', String(product.id), { stock: stock - quantity })
        record.status = 'placed'
      },
      // After commit: a mail that fails to send does not undo the shipment.
      async afterUpdate({ record, previous, records, mailer, log }) {
        if (previous?.status === 'shipped' || record.status !== 'shipped') return
        const customer = await records.asSuperuser().view('customers', String(record.customer))
        await mailer.send({
          to: String(customer.email),
          subject: 'Your order is on its way',
          text: `Order ${record.id} was shipped on ${record.shippedAt}.`,
        })
        log.info({ order: record.id }, 'shipping mail sent')
      },
    },
  },
  routes: [
    {
      method: 'POST',
      path: '/api/orders/:id/ship',
      // Acts as the caller: only superusers get past the orders' null update rule.
      async handler({ params, caller, records }) {
        if (!caller.isSuperuser) throw new HookError(403, 'Only the shop ships orders.')
        const order = await records.view('orders', params.id)
        if (order.status === 'shipped') throw new HookError(409, 'The order was already shipped.')
        return records.update('orders', params.id, { status: 'shipped', shippedAt: new Date().toISOString() })
      },
    },
  ],
  jobs: {
    // Runs as a superuser (a job has no caller) and may run twice: a retry or a second
    // node finds today's request already there and adds nothing.
    async requestRestock(_payload, { records, log }) {
      const day = new Date().toISOString().slice(0, 10)
      const low = await records.list('products', { filter: 'stock < 5', perPage: 500, skipTotal: true })
      for (const product of low.items) {
        const filter = `product = "${product.id}" && day = "${day}"`
        const existing = await records.list('restock_requests', { filter, skipTotal: true })
        if (existing.items.length > 0) continue
        await records.create('restock_requests', { product: product.id, stock: product.stock, day })
      }
      log.info({ day, products: low.items.length }, 'restock requests made')
    },
  },
  cron: [{ name: 'nightly-restock', schedule: '0 3 * * *', job: 'requestRestock' }],
})
