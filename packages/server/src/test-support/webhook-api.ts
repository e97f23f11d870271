import { expect } from 'vitest'
import { loadConfig, type WebhooksConfig } from '../config/index.js'
import { createTestApp, type TestApp } from './app.js'
import type { TestDialect } from './databases.js'
import { webhookSettings } from './webhook-receiver.js'

/** An app whose webhook worker retries quickly and polls the outbox every 20 ms. */
export function webhookTestApp(kind: TestDialect, settings: Partial<WebhooksConfig> = {}): Promise<TestApp> {
  return createTestApp(kind, {
    webhooks: webhookSettings(settings),
    events: { ...loadConfig({}).events, pollIntervalMs: 20 },
  })
}

/** `POST /api/webhooks`, which must succeed: the webhook with its secret. */
export async function registerWebhook(t: TestApp, body: object): Promise<Record<string, any>> {
  const response = await t.request({ method: 'POST', url: '/api/webhooks', payload: body })
  expect(response.statusCode, response.body).toBe(201)
  return response.json()
}

/** `GET /api/webhooks/{id}`, which must succeed. */
export async function readWebhook(t: TestApp, id: string): Promise<Record<string, any>> {
  const response = await t.request({ method: 'GET', url: `/api/webhooks/${id}` })
  expect(response.statusCode, response.body).toBe(200)
  return response.json()
}

/** The delivery log of a webhook (`query` as `?state=…`), which must answer. */
export async function webhookDeliveries(
  t: TestApp,
  id: string,
  query = '',
): Promise<Array<Record<string, any>>> {
  const response = await t.request({ method: 'GET', url: `/api/webhooks/${id}/deliveries${query}` })
  expect(response.statusCode, response.body).toBe(200)
  return response.json().items
}
