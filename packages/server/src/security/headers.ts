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

/**
 * Helmet's headers that only a document acts on: the opener and agent cluster it runs in,
 * DNS prefetching of its links, and two that only old browsers read (IE8's download prompt,
 * the retired XSS auditor). A JSON answer is never such a document, so only pages send them.
 */
const DOCUMENT_ONLY = [
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-xss-protection',
]

function helmetFor(options: HeaderOptions): Record<string, string> {
  return helmetHeaders({
    contentSecurityPolicy: false,
    strictTransportSecurity: options.isHttps ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: options.isCrossOrigin ? 'cross-origin' : 'same-origin' },
  })
}

/**
 * What every answer carries: helmet's headers for the configuration but the document-only
 * ones, with the data CSP. Each header is set and checked by Node on every answer, and these
 * are most of an answer's bytes besides the body.
 */
export function securityHeaders(options: HeaderOptions): Readonly<Record<string, string>> {
  const headers = helmetFor(options)
  for (const name of DOCUMENT_ONLY) delete headers[name]
  return Object.freeze({ ...headers, 'content-security-policy': DATA_CSP })
}

/** The document-only headers, which pages add to those of every answer. */
export const DOCUMENT_HEADERS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(helmetFor({ isHttps: false, isCrossOrigin: false })).filter(([name]) =>
      DOCUMENT_ONLY.includes(name),
    ),
  ),
)

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
    .headers(DOCUMENT_HEADERS)
    .type('text/html; charset=utf-8')
    .header('cache-control', cacheControl)
    .header('content-security-policy', PAGE_CSP)
    .send(html)
}
