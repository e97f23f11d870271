import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { ReadRouting } from './read-routing.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Tells the read routing of every request that may have written (any method but a read, and
 * not refused), so the caller's next reads go to the primary. Any such request counts, not
 * only record writes: a collection changed or a password set is as absent from a lagging
 * replica. Noted before the answer is sent, so a next request cannot overtake it.
 */
export const writeStickiness = fp(
  async function writeStickiness(app: FastifyInstance, options: { reads: ReadRouting }) {
    app.addHook('onSend', async function noteWrite(request, reply, payload) {
      const mayHaveWritten = !SAFE_METHODS.has(request.method) && reply.statusCode < 400
      if (mayHaveWritten && request.caller) await options.reads.noteWrite(request.caller)
      return payload
    })
  },
  { name: 'plinth-write-stickiness', fastify: '5.x' },
)
