import { randomBytes } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'
const RANDOM_LENGTH = 16

/** 16 characters of 36: about 82 bits, so a stored name cannot be guessed from another. */
function randomPart(): string {
  let out = ''
  while (out.length < RANDOM_LENGTH) {
    for (const byte of randomBytes(RANDOM_LENGTH * 2)) {
      // 252 is the largest multiple of 36 below 256: dropping the rest keeps every character equally likely.
      if (byte < 252) out += ALPHABET[byte % 36]
      if (out.length === RANDOM_LENGTH) break
    }
  }
  return out
}

/**
 * The name a file is stored and served under: the original name's letters and digits
 * (accents dropped, at most 40), a random part, and the extension of the detected type.
 * It contains only [a-z0-9_.] so it is safe in a path, a URL and a header.
 */
export function storedName(originalName: string, extension: string): string {
  const base = originalName
    .replace(/\.[^.]*$/, '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40)
  return `${base || 'file'}_${randomPart()}.${extension}`
}

/** What a stored name looks like; anything else in a file URL is refused before storage is asked. */
export const STORED_NAME = /^[a-z0-9_]{1,60}_[a-z0-9]{16}\.[a-z0-9]{1,10}$/
