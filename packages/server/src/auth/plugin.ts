import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { PlinthError, UnauthorizedError } from '../errors/index.js'
import { anonymous, type Caller } from '../identity/index.js'
import { type ApiKeyService, authenticateApiKey, isApiKeyHeader } from './api-keys/index.js'
import { ACCESS_COOKIE, CSRF_HEADER, type CsrfTokens, isUnsafeMethod } from './cookie-mode.js'
import type { TokenService } from './tokens.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request; anonymous unless a valid bearer token came with it. */
    caller: Caller
    /** Whether the caller was identified by the cookie-mode access cookie. */
    viaCookie: boolean
  }
  interface FastifyContextConfig {
    /**
     * For a route that takes a credential of its own (the metrics token): an Authorization
     * header it accepts is left to the route, and the caller stays anonymous.
     */
    acceptsCredential?: (authorization: string) => boolean
  }
}

// The PocketBase SDK sends the bare token, without the scheme; both forms name the same token.
const BEARER = /^(?:Bearer )?([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/

/**
 * The access token a request carries: from `Authorization` (`Bearer <token>` or the bare
 * token), else from the cookie-mode access cookie; undefined for none or an API key.
 */
export function accessTokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (header === undefined) return request.cookies?.[ACCESS_COOKIE]
  return BEARER.exec(header.trim())?.[1]
}

/**
 * Resolves the caller of every request. A token that is sent but not valid is a 401
 * even where anonymous access would do: the client should learn that its session is gone.
 */
export const authentication = fp(
  async function authentication(
    app: FastifyInstance,
    options: { tokens: TokenService; csrf: CsrfTokens; apiKeys?: ApiKeyService },
  ) {
    app.decorateRequest('caller', null as unknown as Caller)
    app.decorateRequest('viaCookie', false)
    const fromCookie = async (request: FastifyRequest, token: string): Promise<void> => {
      const caller = await options.tokens.verify(token)
      // A cookie rides along with any request a browser makes, so writes must prove they come from our pages.
      if (
        isUnsafeMethod(request.method) &&
        !options.csrf.isValid(caller.session?.id ?? '', request.headers[CSRF_HEADER])
      )
        throw new PlinthError(
          403,
          'csrf_failed',
          `Send the value of the plinth_csrf cookie in the ${CSRF_HEADER} header.`,
        )
      request.caller = caller
      request.viaCookie = true
    }
    const fromHeader = async (request: FastifyRequest, header: string): Promise<void> => {
      if (options.apiKeys && isApiKeyHeader(header)) {
        request.caller = await authenticateApiKey(options.apiKeys, request)
        return
      }
      const match = BEARER.exec(header.trim())
      if (!match)
        throw new UnauthorizedError(
          'The Authorization header must be "Bearer <token>" or the bare token.',
          'invalid_token',
        )
      request.caller = await options.tokens.verify(match[1]!)
    }
    // A callback hook, so an anonymous request (the common public read) costs no promise.
    app.addHook('onRequest', function resolveCaller(request, _reply, done) {
      request.caller = anonymous
      const header = request.headers.authorization
      const token = header === undefined ? request.cookies[ACCESS_COOKIE] : undefined
      if (header === undefined && !token) return done()
      if (header !== undefined && request.routeOptions.config.acceptsCredential?.(header)) return done()
      const resolving = header === undefined ? fromCookie(request, token!) : fromHeader(request, header)
      resolving.then(() => done(), done)
    })
  },
  { name: 'plinth-authentication', fastify: '5.x' },
)
