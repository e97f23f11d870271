import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadConfig, type WebhooksConfig } from '../config/index.js'

export interface ReceivedWebhook {
  /** When it arrived, in ms since the epoch. */
  at: number
  url: string
  headers: IncomingHttpHeaders
  body: string
}

/** A whole answer: status, headers and body. */
interface Answer {
  status: number
  headers?: Record<string, string>
  body?: string
}

/** How the receiver answers the nth request (0-based). */
type Responder = (request: ReceivedWebhook, n: number) => number | Answer | 'hang' | Promise<number>

/**
 * A real HTTP server that records what is posted to it, on 127.0.0.1 unless told
 * otherwise. `respond` decides each answer: a status (now or later), a whole answer,
 * or 'hang' (never answer).
 */
export async function startReceiver(options: { host?: string; respond?: Responder } = {}) {
  const received: ReceivedWebhook[] = []
  let respond: Responder = options.respond ?? (() => 204)
  const hanging = new Set<ServerResponse>()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const entry = {
        at: Date.now(),
        url: request.url ?? '/',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      const n = received.push(entry) - 1
      const answer = respond(entry, n)
      if (answer === 'hang') hanging.add(response)
      else if (answer instanceof Promise) void answer.then((status) => response.writeHead(status).end())
      else if (typeof answer === 'number') response.writeHead(answer).end()
      else response.writeHead(answer.status, answer.headers).end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, options.host ?? '127.0.0.1', resolve))
  const { address, port } = server.address() as AddressInfo
  return {
    url: `http://${address}:${port}/hook`,
    port,
    received,
    /** Bodies received, parsed. */
    bodies: () => received.map((entry) => JSON.parse(entry.body)),
    answerWith(next: Responder) {
      respond = next
    },
    async close() {
      for (const response of hanging) response.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>

/** Webhook settings for tests: quick retries and timeouts, private targets as asked. */
export function webhookSettings(overrides: Partial<WebhooksConfig> = {}): WebhooksConfig {
  return {
    ...loadConfig({}).webhooks,
    allowPrivate: true,
    maxAttempts: 3,
    retryBaseMs: 20,
    timeoutMs: 300,
    ...overrides,
  }
}
