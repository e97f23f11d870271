import type { FastifyInstance } from 'fastify'
import { assertNoNulInJson, assertNoNulInUrl } from '../errors/index.js'

/** Refuses NUL in every request's URL and JSON body, before any route sees them. */
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
      try {
        assertNoNulInJson(text)
      } catch (error) {
        return done(error as Error, undefined)
      }
      parseJson(request, text, done)
    },
  )
}
