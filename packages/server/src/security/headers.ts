import type { IncomingMessage, ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply } from 'fastify'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * Pages (the admin app under /_/, the setup page, the API reference at /api/docs)
 * load scripts and styles only from files of their own origin: no inline code.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Anything else is data: a browser that renders it anyway may run and embed nothing. */
export const DATA_CSP = "default-src 'none'; frame-ancestors 'none'"

export interface HeaderOptions {
  /** HSTS only makes sense, and is only sent, when clients reach Plinth over https. */
  isHttps: boolean
  /** With a CORS allow-list, other sites are meant to read answers, so CORP must not block them. */
  isCrossOrigin: boolean
}

/**
 * The headers helmet would set, read once by running its middleware against a recorder.
 * They depend only on the configuration, so every answer can take the same object
 * instead of running a dozen middlewares per request.
 */
function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value)
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()]
    },
  }
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error
  })
  return headers
}

/** Helmet's headers for the configuration, with the data CSP: what every answer carries. */
export function securityHeaders(options: HeaderOptions): Readonly<Record<string, string>> {
  return Object.freeze({
    ...helmetHeaders({
      contentSecurityPolicy: false,
      strictTransportSecurity: options.isHttps ? { maxAge: 31_536_000, includeSubDomains: false } : false,
      frameguard: { action: 'deny' },
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginResourcePolicy: { policy: options.isCrossOrigin ? 'cross-origin' : 'same-origin' },
    }),
    'content-security-policy': DATA_CSP,
  })
}

/** The security headers on every answer; pages switch to their CSP with {@link sendPage}. */
export function registerSecurityHeaders(
  app: FastifyInstance,
  headers: Readonly<Record<string, string>>,
): void {
  app.addHook('onRequest', function securityHeaders(_request, reply, done) {
    reply.headers(headers)
    done()
  })
}

/** Answers with one of Plinth's own HTML pages, under the page CSP. */
export function sendPage(
  reply: FastifyReply,
  html: string,
  cacheControl: 'no-store' | 'no-cache',
): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', cacheControl)
    .header('content-security-policy', PAGE_CSP)
    .send(html)
}
