import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE } from '../auth/index.js'
import type { JsonSchema } from './document-context.js'

export const BEARER = 'bearerAuth'
const COOKIE = 'cookieAuth'
const CSRF = 'csrfToken'
const REFRESH = 'refreshCookie'
const METRICS_TOKEN = 'metricsToken'

/** Methods that change something; in cookie mode they must prove where they come from. */
const UNSAFE = new Set(['post', 'put', 'patch', 'delete'])

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

export const securitySchemes: Record<string, JsonSchema> = {
  [BEARER]: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'An access token from a sign-in (or setup), sent as `Authorization: Bearer …` (or, as PocketBase clients send it, without `Bearer`). On the records API and `/api/batch` an API key (`plk_…`) is accepted the same way.',
  },
  [COOKIE]: {
    type: 'apiKey',
    in: 'cookie',
    name: ACCESS_COOKIE,
    description:
      'Cookie mode for browsers: the access token as an HttpOnly cookie, set by a sign-in sent with `X-Plinth-Auth: cookie`. Writes also need the CSRF header.',
  },
  [CSRF]: {
    type: 'apiKey',
    in: 'header',
    name: CSRF_HEADER,
    description: `Cookie mode: the value of the readable \`${CSRF_COOKIE}\` cookie, sent back with every write.`,
  },
  [REFRESH]: {
    type: 'apiKey',
    in: 'cookie',
    name: REFRESH_COOKIE,
    description: 'Cookie mode: the refresh token as an HttpOnly cookie, sent only to `/api/collections`.',
  },
  [METRICS_TOKEN]: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The value of `PLINTH_METRICS_TOKEN`, for a Prometheus scraper: it opens `/api/metrics` and nothing else.',
  },
}

/** One way of authenticating: every scheme it names is needed together; `{}` means none. */
export type Requirement = Record<string, string[]>

function sessionRequirements(method: Method): Requirement[] {
  return [{ [BEARER]: [] }, UNSAFE.has(method) ? { [COOKIE]: [], [CSRF]: [] } : { [COOKIE]: [] }]
}

/** Needs a signed-in caller: a bearer token, or the cookie-mode session. */
export function signedIn(method: Method): Requirement[] {
  return sessionRequirements(method)
}

/** Works anonymously; a signed-in caller changes what it does. */
export function optionallySignedIn(method: Method): Requirement[] {
  return [{}, ...sessionRequirements(method)]
}

export const anonymous: Requirement[] = [{}]

/** A superuser's session, or the metrics token of a scraper. */
export const metricsReaders: Requirement[] = [...sessionRequirements('get'), { [METRICS_TOKEN]: [] }]

/**
 * `auth-refresh`: the refresh token comes in the body, or in cookie mode as a cookie with
 * the CSRF header; or, as PocketBase clients refresh, the access token alone.
 */
export const refreshCredentials: Requirement[] = [{}, { [REFRESH]: [], [CSRF]: [] }, { [BEARER]: [] }]

/** Whether an anonymous request is refused for want of credentials. */
export function needsCredentials(security: Requirement[]): boolean {
  return !security.some((requirement) => Object.keys(requirement).length === 0)
}

/** Whether one way of calling is cookie mode with its CSRF header, which can fail with 403. */
export function needsCsrfToken(security: Requirement[]): boolean {
  return security.some((requirement) => CSRF in requirement)
}
