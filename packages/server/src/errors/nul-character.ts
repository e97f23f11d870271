import { BadRequestError } from './errors.js'

/*
 * PostgreSQL cannot hold U+0000 in text or jsonb: a NUL that reached a query would fail
 * it as a server error, while SQLite would store it. Refusing it where input enters
 * keeps both databases alike and every such request a clear 400.
 */

// JSON can only spell NUL as an escape: `\u0000` after an even number of backslashes.
const ESCAPED_NUL = /(?<!\\)(?:\\\\)*\\u0000/

/** Throws a 400 when a URL (path or query) carries an encoded NUL. */
export function assertNoNulInUrl(url: string, name = 'url'): void {
  if (url.includes('%00'))
    throw new BadRequestError('The URL contains a NUL character (%00).', 'bad_request', {
      [name]: { code: 'invalid_character', message: 'must not contain the NUL character' },
    })
}

/** Throws a 400 when JSON text spells a NUL character. */
export function assertNoNulInJson(text: string): void {
  // The plain search is fast and almost always false; the exact pattern runs only after it.
  if (text.includes('\\u0000') && ESCAPED_NUL.test(text))
    throw new BadRequestError('The body contains a NUL character (\\u0000).', 'bad_request', {
      body: { code: 'invalid_character', message: 'must not contain the NUL character' },
    })
}
