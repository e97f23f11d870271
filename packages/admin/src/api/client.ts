import { problemOf } from './problem'

/** The cookie mode of the API (packages/server/src/auth/cookie-mode.ts): tokens live in HttpOnly cookies. */
const AUTH_MODE_HEADER = 'x-plinth-auth'
const CSRF_COOKIE = 'plinth_csrf'
const CSRF_HEADER = 'x-csrf-token'
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const SUPERUSERS = '_superusers'

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
type Query = Record<string, string | number | boolean | undefined>

export interface RequestOptions {
  method?: Method
  query?: Query
  /** Sent as JSON, or as it is when it is `FormData` (a multipart upload). */
  body?: unknown
  signal?: AbortSignal
  /** Sign-in and refresh requests ask for the tokens as cookies. */
  asksForCookies?: boolean
  /** A 401 from a sign-in step means wrong credentials, not an expired session: no refresh then. */
  refreshesOn401?: boolean
}

/** The value of the CSRF cookie, which exists while a cookie-mode session does. */
export function csrfToken(): string | null {
  for (const part of document.cookie.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join('='))
  }
  return null
}

function urlOf(path: string, query: Query | undefined): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined && value !== '') params.set(key, String(value))
  const search = params.toString()
  return search ? `${path}?${search}` : path
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const method = options.method ?? 'GET'
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' }
  const multipart = options.body instanceof FormData
  if (options.body !== undefined && !multipart) headers['content-type'] = 'application/json'
  if (options.asksForCookies) headers[AUTH_MODE_HEADER] = 'cookie'
  const csrf = csrfToken()
  if (!SAFE_METHODS.has(method) && csrf) headers[CSRF_HEADER] = csrf
  return fetch(urlOf(path, options.query), {
    method,
    headers,
    body: multipart
      ? (options.body as FormData)
      : options.body === undefined
        ? undefined
        : JSON.stringify(options.body),
    credentials: 'same-origin',
    signal: options.signal,
  })
}

let refreshing: Promise<boolean> | null = null
const signedOutListeners = new Set<() => void>()

/** Called when the session has ended for good (the refresh failed), so the app can ask for a sign-in. */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener)
  return () => signedOutListeners.delete(listener)
}

/**
 * Spends the refresh cookie for new cookies. One refresh at a time per tab, and across tabs
 * under a Web Lock: two tabs spending the same refresh token would look like a stolen one
 * being reused, and the server would end the session.
 */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const attempt = async () => {
      const response = await send(`/api/collections/${SUPERUSERS}/auth-refresh`, {
        method: 'POST',
        asksForCookies: true,
      })
      return response.ok
    }
    try {
      return navigator.locks
        ? await navigator.locks.request('plinth-admin-refresh', attempt)
        : await attempt()
    } catch {
      return false
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

async function request(path: string, options: RequestOptions): Promise<Response> {
  let response = await send(path, options)
  if (response.status === 401 && options.refreshesOn401 !== false && csrfToken() !== null) {
    if (await refreshSession()) response = await send(path, options)
  }
  if (response.status === 401 && options.refreshesOn401 !== false)
    for (const listener of signedOutListeners) listener()
  if (!response.ok) throw await problemOf(response)
  return response
}

/**
 * Calls the API and reads its JSON answer (undefined for 204). A failure throws an
 * {@link ApiError} with the server's `detail` and per-field `errors`. An expired session is
 * refreshed once and the request sent again; if that fails the app is told to sign in.
 *
 * ```ts
 * const page = await api<ListPage<Job>>('/api/jobs', { query: { page: 2, perPage: 50 } })
 * ```
 */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await request(path, options)
  if (response.status === 204) return undefined as T
  return (await response.json()) as T
}

/** Like {@link api}, for answers that are text (the Prometheus metrics). */
export async function apiText(path: string, options: RequestOptions = {}): Promise<string> {
  return (await request(path, options)).text()
}
