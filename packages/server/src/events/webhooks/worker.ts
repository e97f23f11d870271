import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { WebhooksConfig } from '../../config/index.js'
import type { Counter } from '../../metrics/index.js'
import { outgoingTraceparent, runTraced } from '../../telemetry/index.js'
import { retryDelay } from './retry-schedule.js'
import type { WebhookSender } from './sender.js'
import type { WebhookService } from './service.js'
import { signature } from './signature.js'
import { circuitOf, type DeliveryRow, type WebhookRow } from './store.js'

export interface DeliveryWorkerOptions
  extends Pick<
    WebhooksConfig,
    'maxAttempts' | 'retryBaseMs' | 'timeoutMs' | 'breakerThreshold' | 'breakerPauseMs'
  > {
  /** How often to look for due deliveries, in ms; new deliveries on this node wake it at once. */
  pollInterval: number
  /** How long finished deliveries are kept, in ms. */
  retention: number
  /** At most this many deliveries of one endpoint per pass, so one busy endpoint does not hold up a pass. */
  batchSize?: number
  log?: Pick<Logger, 'warn'>
  /** Counts failed attempts by what follows them; a stop of this node's own is not the endpoint's failure. */
  failures?: Counter<'outcome'>
}

const PRUNE_EVERY_MS = 60 * 60 * 1000

/**
 * Sends due deliveries, on every node: each is claimed in the database first, so one
 * node sends it. Failures are retried with backoff until `maxAttempts`, then dead.
 * An endpoint that fails `breakerThreshold` times in a row is paused (its deliveries
 * wait, none is dropped) and then probed with one delivery before it resumes. An
 * endpoint paused by hand is left alone until it is resumed.
 */
export class DeliveryWorker {
  readonly #node = randomUUID()
  #isRunning = false
  #loop: Promise<void> | null = null
  #wake: (() => void) | null = null
  #isWoken = false
  #lastPrune = 0
  #stopping = new AbortController()

  constructor(
    private readonly service: WebhookService,
    private readonly sender: WebhookSender,
    private readonly options: DeliveryWorkerOptions,
  ) {}

  start(): void {
    if (this.#isRunning) return
    this.#isRunning = true
    this.#stopping = new AbortController()
    this.#loop = this.#run()
  }

  /** Looks for due deliveries now: one was just queued on this node. */
  wake(): void {
    this.#isWoken = true
    this.#wake?.()
  }

  /** Stops; an attempt under way is cut short and is tried again (it may have arrived: at least once). */
  async stop(): Promise<void> {
    this.#isRunning = false
    this.#stopping.abort()
    this.#wake?.()
    await this.#loop
  }

  /** One pass: sends what is due now and resolves when those attempts are recorded. */
  async #tick(now = Date.now()): Promise<void> {
    const { store } = this.service
    const endpoints = await store.deliverable(now)
    await Promise.all(endpoints.map((endpoint) => this.#sendDue(endpoint, now)))
    if (now - this.#lastPrune > PRUNE_EVERY_MS) {
      this.#lastPrune = now
      await store.prune(now - this.options.retention)
    }
  }

  async #run(): Promise<void> {
    while (this.#isRunning) {
      this.#isWoken = false
      try {
        await this.#tick()
      } catch (error) {
        this.options.log?.warn({ err: error }, 'sending webhook deliveries failed; trying again')
      }
      if (!this.#isWoken) await this.#idle(this.options.pollInterval)
    }
  }

  #idle(ms: number): Promise<void> {
    if (!this.#isRunning) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      const self = this
      function done() {
        clearTimeout(timer)
        self.#wake = null
        resolve()
      }
      this.#wake = done
    })
  }

  /**
   * Deliveries of an endpoint go one after another: a slow endpoint is not flooded,
   * and each failure is counted before the next attempt, so the circuit opens in time.
   */
  async #sendDue(endpoint: WebhookRow, now: number): Promise<void> {
    const { store } = this.service
    const lease = this.options.timeoutMs * 2 + 5_000
    const isProbe = circuitOf(endpoint, now) === 'half-open'
    const probeUntil = now + lease
    if (isProbe && !(await store.takeProbe(endpoint, probeUntil))) return
    const secret = this.service.secretOf(endpoint.secret)
    const limit = isProbe ? 1 : (this.options.batchSize ?? 20)
    let sent = 0
    while (sent < limit && this.#isRunning) {
      const [row] = await store.claim(endpoint.id, 1, this.#node, Date.now(), lease)
      if (!row) break
      sent++
      if (!(await this.#attempt(endpoint, secret, row))) break
    }
    if (isProbe && sent === 0) await store.returnProbe(endpoint.id, probeUntil, Number(endpoint.paused_until))
  }

  /** One attempt; false when it failed and the endpoint's circuit is now open. */
  async #attempt(endpoint: WebhookRow, secret: string, row: DeliveryRow): Promise<boolean> {
    const { store } = this.service
    const timestamp = Math.floor(Date.now() / 1000)
    const attributes = {
      'plinth.webhook.id': endpoint.id,
      'plinth.webhook.delivery_id': row.id,
      'plinth.webhook.attempt': Number(row.attempts),
    }
    const result = await runTraced(
      'deliver webhook',
      row.trace_parent,
      attributes,
      () => {
        const traceparent = outgoingTraceparent(row.trace_parent)
        return this.sender.send(
          endpoint.url,
          row.body,
          {
            'webhook-id': row.id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signature(secret, row.id, timestamp, row.body),
            // The receiver's own spans join the trace of the request that made the change.
            ...(traceparent ? { traceparent } : {}),
          },
          this.#stopping.signal,
        )
      },
      {
        role: 'client',
        failure: (sent) => (sent.isDelivered ? null : `answered ${sent.status ?? 'nothing'}`),
      },
    )
    const now = Date.now()
    const attempts = Number(row.attempts)
    if (result.isDelivered) {
      await store.finish(row, { state: 'succeeded', ...result }, now)
      await store.succeeded(endpoint.id)
      return true
    }
    if (this.#stopping.signal.aborted) {
      // Cut short by this node's shutdown: no fault of the endpoint, so its circuit is
      // left alone and the delivery is due again at once, on whichever node is up.
      await store.finish(row, { state: 'failed', ...result, nextAt: now }, now)
      return false
    }
    const isDead = attempts >= this.options.maxAttempts
    this.options.failures?.inc({ outcome: isDead ? 'dead' : 'retry' })
    await store.finish(
      row,
      {
        state: isDead ? 'dead' : 'failed',
        ...result,
        nextAt: isDead ? now : now + retryDelay(this.options.retryBaseMs, attempts),
      },
      now,
    )
    return !(await store.failed(
      endpoint.id,
      this.options.breakerThreshold,
      now + this.options.breakerPauseMs,
    ))
  }
}
