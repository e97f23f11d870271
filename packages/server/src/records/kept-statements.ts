import type { Caller } from '../identity/index.js'

/** The key of anonymous callers, who all compile alike. */
const ANONYMOUS = Object.freeze({})

/**
 * Whether compiling a rule, filter or sort reads nothing but the caller's auth record
 * and collection definitions. Definitions are swapped whole on any schema change, so a
 * statement kept per definition goes with them; the clock and the request's query
 * string change from one request to the next, so texts reading those are never kept.
 */
export function readsOnlyTheCaller(text: string): boolean {
  return !text.replace(/@request\.auth\.|@collection\./g, '').includes('@')
}

/**
 * What a caller's kept statements hang on: the auth record object the token cache hands
 * out, so they are dropped when it reloads the record (and with it any change to it).
 */
export function callerKey(caller: Caller): object {
  return caller.auth?.record ?? ANONYMOUS
}
