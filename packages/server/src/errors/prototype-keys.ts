/**
 * Names that reach `Object.prototype` when used as a key of a plain object (`o.__proto__`,
 * `o.constructor.prototype`). A client never chooses them as a name or a path segment:
 * refusing them up front keeps every later lookup safe, whatever object it reads.
 */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

export function isPrototypeKey(name: string): boolean {
  return PROTOTYPE_KEYS.has(name)
}

/** The first segment of a dotted path that is a prototype key, if any. */
export function prototypeKeyIn(segments: readonly string[]): string | undefined {
  return segments.find(isPrototypeKey)
}
