import { hash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { routePattern } from '../metrics/index.js'
import type { CachedRead, ReadCache, ReadQuery } from './read-cache.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Where the answer of a cacheable read is kept; null when it is not kept. */
    readCacheKey?: string | null
    /** Set when the answer came from the cache, so it is not kept again. */
    servedFromCache?: boolean
  }
}

const READS: Record<string, CachedRead> = {
  '/api/collections/:collection/records': 'list',
  '/api/collections/:collection/records/:id': 'view',
}

function readOf(request: FastifyRequest): CachedRead | undefined {
  return request.method === 'GET' ? READS[routePattern(request) ?? ''] : undefined
}

const collectionOf = (request: FastifyRequest) => (request.params as { collection: string }).collection

/** The answer depends on who asks: caches in front must keep one per credential. */
function addVary(reply: FastifyReply): void {
  const vary = reply.getHeader('vary')
  reply.header('vary', vary ? `${String(vary)}, Authorization, Cookie` : 'Authorization, Cookie')
}

/**
 * What caches in front may do with a record answer. Only an anonymous caller's answer is the
 * same for everyone who sends the same URL without credentials (Vary keeps credentialed ones
 * apart), so only it is public; an answer that reads the clock is revalidated every time.
 */
function setCacheControl(
  request: FastifyRequest,
  reply: FastifyReply,
  cache: ReadCache,
  maxAge: number,
): void {
  const read = readOf(request)!
  const isAnonymous = request.caller.auth === null && request.caller.apiKey === undefined
  const age =
    maxAge > 0 && !cache.dependsOnClock(read, collectionOf(request), request.query as ReadQuery)
      ? `max-age=${maxAge}`
      : 'no-cache'
  reply.header('cache-control', isAnonymous ? `public, ${age}` : 'private, no-cache')
  addVary(reply)
}

const matches = (request: FastifyRequest, etag: string) => request.headers['if-none-match'] === etag

/**
 * The read cache in front of the record list and view routes, and the HTTP caching of
 * their answers: ETag and 304 on lists as on records, Cache-Control and Vary.
 */
export const readCaching = fp(
  async function readCaching(app: FastifyInstance, options: { cache: ReadCache; httpMaxAge: number }) {
    const { cache, httpMaxAge } = options

    // A callback hook, which answers by sending without calling done: an async hook answers by
    // handing back the reply, and Fastify then waits for the response through a stream listener.
    app.addHook('preHandler', function answerFromCache(request, reply, done) {
      const read = readOf(request)
      if (!read) return done()
      const key = cache.keyFor(
        read,
        collectionOf(request),
        request.caller,
        request.url,
        request.query as ReadQuery,
      )
      request.readCacheKey = key
      // A client that asks for a fresh answer gets one, and the fresh answer is kept.
      if (key === null || /no-cache/.test(request.headers['cache-control'] ?? '')) return done()
      cache.get(key).then((entry) => {
        if (!entry) return done()
        try {
          request.servedFromCache = true
          setCacheControl(request, reply, cache, httpMaxAge)
          reply.header('etag', entry.etag)
          if (matches(request, entry.etag)) reply.code(304).send()
          else reply.type('application/json; charset=utf-8').send(entry.payload)
        } catch (error) {
          done(error as Error)
        }
      }, done)
    })

    app.addHook('onSend', async function keepAnswer(request, reply, payload) {
      if (!readOf(request) || request.servedFromCache) return payload
      if (reply.statusCode === 304) {
        setCacheControl(request, reply, cache, httpMaxAge)
        return payload
      }
      if (reply.statusCode !== 200 || typeof payload !== 'string') return payload
      setCacheControl(request, reply, cache, httpMaxAge)
      let etag = reply.getHeader('etag') as string | undefined
      if (!etag) {
        etag = `"${hash('sha256', payload, 'base64url').slice(0, 27)}"`
        reply.header('etag', etag)
      }
      if (request.readCacheKey) await cache.set(request.readCacheKey, etag, payload)
      if (!matches(request, etag)) return payload
      reply.code(304)
      return ''
    })
  },
  { name: 'plinth-read-caching', fastify: '5.x' },
)
