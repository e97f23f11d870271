import http from 'node:http'
import https from 'node:https'
import type { LookupFunction } from 'node:net'
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent'

/** What one attempt to deliver came to. */
export interface SendResult {
  isDelivered: boolean
  /** The last response's status, or null when none came. */
  status: number | null
  durationMs: number
  /** Why it failed, short enough for the delivery log. */
  error: string | null
}

export interface SenderOptions {
  timeoutMs: number
  allowPrivate: boolean
  /** IPs and CIDR ranges allowed even though private. */
  allowAddresses: string[]
  /** Resolves host names; the system resolver by default. Every answer is checked before connecting. */
  lookup?: LookupFunction
}

const MAX_REDIRECTS = 3
/** Only the start of an answer is read: enough to say what went wrong, never a flood into memory. */
const MAX_RESPONSE_BYTES = 4096
const MAX_ERROR_LENGTH = 300
const REDIRECTS = new Set([301, 302, 303, 307, 308])

/**
 * Posts webhook bodies. Each connection goes through the request-filtering agent, which
 * checks the address after DNS resolution, right before connecting, so a name that
 * resolves to a private address (or is rebound to one) is refused. Redirects are
 * followed here, a few at most, so each hop passes the same check.
 */
export class WebhookSender {
  readonly #http: http.Agent
  readonly #https: https.Agent

  constructor(private readonly options: SenderOptions) {
    const filtering = {
      allowPrivateIPAddress: options.allowPrivate,
      allowMetaIPAddress: options.allowPrivate,
      allowIPAddressList: options.allowAddresses,
    }
    this.#http = new RequestFilteringHttpAgent(filtering)
    this.#https = new RequestFilteringHttpsAgent(filtering)
  }

  /** Posts `body`; `stop` cuts the attempt short (the node is shutting down). */
  async send(
    target: string,
    body: string,
    headers: Record<string, string>,
    stop?: AbortSignal,
  ): Promise<SendResult> {
    const started = performance.now()
    const timeout = AbortSignal.timeout(this.options.timeoutMs)
    const signal = stop ? AbortSignal.any([timeout, stop]) : timeout
    const result = (status: number | null, error: string | null): SendResult => ({
      isDelivered: error === null,
      status,
      durationMs: Math.round(performance.now() - started),
      error: error === null ? null : error.slice(0, MAX_ERROR_LENGTH),
    })
    let url = target
    for (let hop = 0; ; hop++) {
      let response: { status: number; location: string | undefined; text: string }
      try {
        response = await this.#post(url, body, headers, signal)
      } catch (error) {
        return result(null, describe(error, timeout, stop))
      }
      const { status, location } = response
      if (status >= 200 && status < 300) return result(status, null)
      if (!REDIRECTS.has(status)) return result(status, `The endpoint answered ${status}: ${response.text}`)
      if (location === undefined) return result(status, `The endpoint answered ${status} without a Location.`)
      if (hop === MAX_REDIRECTS) return result(status, `More than ${MAX_REDIRECTS} redirects.`)
      const next = URL.canParse(location, url) ? new URL(location, url) : null
      if (!next || !['http:', 'https:'].includes(next.protocol) || next.username || next.password)
        return result(status, 'The endpoint redirected to a URL that is not http(s) without credentials.')
      url = next.toString()
    }
  }

  #post(
    url: string,
    body: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<{ status: number; location: string | undefined; text: string }> {
    const target = new URL(url)
    const isHttps = target.protocol === 'https:'
    return new Promise((resolve, reject) => {
      const request = (isHttps ? https : http).request(
        target,
        {
          method: 'POST',
          agent: isHttps ? this.#https : this.#http,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'Plinth-Webhooks',
          },
          signal,
          ...(this.options.lookup ? { lookup: this.options.lookup } : {}),
        },
        (response) => {
          const chunks: Buffer[] = []
          let size = 0
          const finish = () => {
            response.destroy()
            const location = response.headers.location
            resolve({
              status: response.statusCode ?? 0,
              location,
              text: Buffer.concat(chunks).toString('utf8').slice(0, 200),
            })
          }
          response.on('data', (chunk: Buffer) => {
            chunks.push(chunk)
            size += chunk.length
            if (size >= MAX_RESPONSE_BYTES) finish()
          })
          response.on('end', finish)
          response.on('error', reject)
        },
      )
      request.on('error', reject)
      request.end(body)
    })
  }
}

function describe(error: unknown, timeout: AbortSignal, stop: AbortSignal | undefined): string {
  if (stop?.aborted) return 'The node stopped during the attempt.'
  if (timeout.aborted) return 'The endpoint did not answer in time.'
  const message = error instanceof Error ? error.message : String(error)
  // The agent's words for an address it refused after resolving the host.
  if (/is not allowed/.test(message))
    return `Refused: the endpoint's address is private, loopback, link-local or reserved (${message})`
  return `The request failed: ${message}`
}
