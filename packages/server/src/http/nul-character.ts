import type { FastifyInstance } from 'fastify'
import { assertNoNulInJson, assertNoNulInUrl } from '../errors/index.js'

/**
 * Refuses NUL in every request's URL and JSON body, before any route sees them, and
 * reads an empty JSON body as no body.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  // After the onRequest hooks, so the refusal carries the headers every answer has.
  app.addHook('preParsing', function refuseNulInUrl(request, _reply, payload, done) {
    try {
      assertNoNulInUrl(request.url)
      done(null, payload)
    } catch (error) {
      done(error as Error)
    }
  })
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    function parseJsonWithoutNul(request, body, done) {
      const text = body as string
      // A header without a body (the PocketBase SDK's DELETE) is a request without a body;
      // routes that need one answer as they do to any missing body.
      if (text === '') return done(null, undefined)
      try {
        assertNoNulInJson(text)
      } catch (error) {
        return done(error as Error, undefined)
      }
      parseJson(request, text, done)
    },
  )
}
