import { createHmac, hkdfSync } from 'node:crypto'
import { fastifyCookie } from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { constantTimeEqual } from '../crypto/index.js'

export const ACCESS_COOKIE = 'plinth_token'
export const REFRESH_COOKIE = 'plinth_refresh'
export const CSRF_COOKIE = 'plinth_csrf'
export const CSRF_HEADER = 'x-csrf-token'
/** A browser asks for cookie mode with this header on a sign-in or refresh request. */
export const AUTH_MODE_HEADER = 'x-plinth-auth'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const TOKEN_ANSWERS = /\/(auth-with-[a-z0-9-]+|auth-refresh|impersonate\/[^/]+)$|^\/api\/setup$/
const LOGOUT = /\/auth-logout$/
/** Registered route patterns whose answers {@link TOKEN_ANSWERS} and {@link LOGOUT} can match. */
const TOKEN_ROUTES = /\/(auth-[a-z0-9-]+|impersonate\/:[A-Za-z]+)$|^\/api\/setup$/

/** Whether a route (by its registered pattern) hands out tokens or ends a session. */
export function handlesSessions(routeUrl: string): boolean {
  return TOKEN_ROUTES.test(routeUrl)
}
const serialize: typeof fastifyCookie.serialize = (name, value, options) =>
  fastifyCookie.serialize(name, value, options)

/**
 * CSRF tokens for cookie mode: an HMAC of the session id under a key derived from
 * the instance secret. The browser sends the cookie's value back in a header, which
 * a page on another site cannot read or forge (signed double submit).
 */
export class CsrfTokens {
  readonly #key: Buffer

  constructor(instanceSecret: string) {
    this.#key = Buffer.from(hkdfSync('sha256', instanceSecret, 'plinth', 'csrf v1', 32))
  }

  issue(sessionId: string): string {
    return createHmac('sha256', this.#key).update(sessionId).digest('base64url')
  }

  isValid(sessionId: string, presented: unknown): boolean {
    return typeof presented === 'string' && constantTimeEqual(this.issue(sessionId), presented)
  }
}

export function isUnsafeMethod(method: string): boolean {
  return !SAFE_METHODS.has(method)
}

export function wantsCookies(request: FastifyRequest): boolean {
  return request.headers[AUTH_MODE_HEADER] === 'cookie'
}

export interface CookieModeOptions {
  csrf: CsrfTokens
  /** Secure cookies (https, or a localhost origin that browsers treat as secure). */
  secure: boolean
  tokenTtl: number
  sessionTtl: number
}

function sessionIdOf(token: string): string | null {
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      sid?: unknown
    }
    return typeof claims.sid === 'string' ? claims.sid : null
  } catch {
    return null
  }
}

/**
 * Cookie mode for browsers: answers that carry tokens put them in HttpOnly cookies
 * (and a readable CSRF cookie) instead of the body, so page scripts never hold them.
 */
export const cookieMode = fp(
  async function cookieMode(app: FastifyInstance, options: CookieModeOptions) {
    const base = { secure: options.secure, path: '/' }
    const cookiesFor = (token: string, refreshToken: unknown): string[] => {
      const sid = sessionIdOf(token)
      const cookies = [
        serialize(ACCESS_COOKIE, token, {
          ...base,
          httpOnly: true,
          sameSite: 'lax',
          maxAge: options.tokenTtl,
        }),
        serialize(CSRF_COOKIE, sid ? options.csrf.issue(sid) : '', {
          ...base,
          httpOnly: false,
          sameSite: 'lax',
          maxAge: options.sessionTtl,
        }),
      ]
      if (typeof refreshToken === 'string')
        cookies.push(
          serialize(REFRESH_COOKIE, refreshToken, {
            ...base,
            path: '/api/collections',
            httpOnly: true,
            sameSite: 'strict',
            maxAge: options.sessionTtl,
          }),
        )
      return cookies
    }
    const cleared = [ACCESS_COOKIE, CSRF_COOKIE]
      .map((name) => serialize(name, '', { ...base, maxAge: 0 }))
      .concat(serialize(REFRESH_COOKIE, '', { ...base, path: '/api/collections', maxAge: 0 }))

    async function moveTokensToCookies(request: FastifyRequest, reply: FastifyReply, payload: unknown) {
      if (!wantsCookies(request) && !request.viaCookie) return payload
      const path = request.url.split('?')[0]!
      if (LOGOUT.test(path) && reply.statusCode === 204) {
        reply.header('set-cookie', cleared)
        return payload
      }
      if (
        !wantsCookies(request) ||
        (reply.statusCode !== 200 && reply.statusCode !== 201) ||
        !TOKEN_ANSWERS.test(path)
      )
        return payload
      if (typeof payload !== 'string') return payload
      const body = JSON.parse(payload) as Record<string, unknown>
      if (typeof body.token !== 'string') return payload
      reply.header('set-cookie', cookiesFor(body.token, body.refreshToken))
      const { token: _token, refreshToken: _refresh, ...rest } = body
      return JSON.stringify(rest)
    }

    // Only routes that hand out or end sessions carry the hook, so other answers pay nothing for it.
    app.addHook('onRoute', function handleTokenRoutes(route) {
      if (!handlesSessions(route.url)) return
      const own =
        route.onSend === undefined ? [] : Array.isArray(route.onSend) ? route.onSend : [route.onSend]
      route.onSend = [moveTokensToCookies, ...own]
    })
  },
  { name: 'plinth-cookie-mode', fastify: '5.x' },
)
