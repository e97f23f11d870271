import { sep } from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { NotFoundError, PlinthError } from '../errors/index.js'
import { DOCUMENT_HEADERS } from '../security/index.js'
import { findAdminBuild } from './build.js'

export const ADMIN_PREFIX = '/_/'

/**
 * The admin app's pages load code, styles and data only from this origin and run no inline
 * script; images may also be data: or blob: URLs (previews of files about to be uploaded).
 */
export const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** Vite names every file under assets/ after a hash of its content: a new build is new names. */
const IMMUTABLE = 'public, max-age=31536000, immutable'
const ASSETS = `${sep}assets${sep}`
/** Paths under /_/ that belong to the server's own pages (auth/email-flows), never to the app. */
const SERVER_PAGES = /^\/_\/auth\//

export interface AdminRoutesOptions {
  /** The built app; by default the dist folder of the admin package, null when not built. */
  dist?: string | null
}

/**
 * Serves the admin app at /_/: its files, with their precompressed variants when the client
 * accepts them, and index.html for every other path under /_/ so the app's router takes it.
 *
 * @example
 * await app.register(adminRoutes)                     // the built @plinth/admin package
 * await app.register(adminRoutes, { dist: '/tmp/x' }) // another build
 */
export async function adminRoutes(app: FastifyInstance, options: AdminRoutesOptions): Promise<void> {
  const dist = options.dist === undefined ? findAdminBuild() : options.dist

  app.get('/_', async function adminWithoutSlash(_request, reply) {
    return reply.redirect(ADMIN_PREFIX, 301)
  })

  if (dist === null) {
    app.get(`${ADMIN_PREFIX}*`, async function adminNotBuilt() {
      throw new PlinthError(
        503,
        'admin_not_built',
        'The admin app is not built. Run `npm run build` (or `npm install`) in the Plinth repository and ' +
          'restart the server; meanwhile `plinth superuser upsert EMAIL PASSWORD` creates a superuser.',
      )
    })
    return
  }

  // One route per built file (no wildcard), so the app's router gets every other path.
  await app.register(fastifyStatic, {
    root: dist,
    prefix: ADMIN_PREFIX,
    wildcard: false,
    index: false,
    preCompressed: true,
    cacheControl: false,
    // The .br and .gz files are variants of the others, chosen by Accept-Encoding, not files of their own.
    globIgnore: ['**/*.br', '**/*.gz'],
    setHeaders(reply, path) {
      if (path.includes(ASSETS)) reply.header('cache-control', IMMUTABLE)
      else {
        // index.html names the current assets: it must be asked for again after every deploy.
        reply.header('cache-control', 'no-cache')
        if (path.endsWith('.html'))
          reply.headers(DOCUMENT_HEADERS).header('content-security-policy', ADMIN_CSP)
      }
    },
  })

  app.get(`${ADMIN_PREFIX}*`, async function adminPage(request, reply) {
    const path = request.url.split('?')[0]!
    // A missing asset is a 404: answering HTML for a script would fail in a harder way to read.
    if (SERVER_PAGES.test(path) || path.startsWith(`${ADMIN_PREFIX}assets/`)) throw new NotFoundError('page')
    return reply.sendFile('/index.html')
  })
}
