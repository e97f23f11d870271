/** Counts stop here: what matters is which of two keys is asked for more, not by how much. */
const MAX_COUNT = 15
const DEPTH = 4

/**
 * How often each key was asked for lately, in a fixed few bytes a key (a count-min sketch:
 * four counters a key, the smallest is the estimate, never below the true count). Counts are
 * halved once the sketch has counted ten times its width, so what was popular long ago fades.
 */
export class FrequencySketch {
  readonly #rows: Uint8Array[]
  readonly #mask: number
  readonly #resetAfter: number
  #counted = 0

  /** `keys`: about how many keys are kept at once; the sketch is sized to tell that many apart. */
  constructor(keys: number) {
    let width = 1024
    while (width < keys) width *= 2
    this.#mask = width - 1
    this.#rows = Array.from({ length: DEPTH }, () => new Uint8Array(width))
    this.#resetAfter = width * 10
  }

  increment(key: string): void {
    const [first, step] = hashesOf(key)
    for (let row = 0; row < DEPTH; row++) {
      const counters = this.#rows[row]!
      const slot = (first + row * step) & this.#mask
      if (counters[slot]! < MAX_COUNT) counters[slot]!++
    }
    if (++this.#counted >= this.#resetAfter) this.#halve()
  }

  estimate(key: string): number {
    const [first, step] = hashesOf(key)
    let least = MAX_COUNT
    for (let row = 0; row < DEPTH; row++)
      least = Math.min(least, this.#rows[row]![(first + row * step) & this.#mask]!)
    return least
  }

  #halve(): void {
    this.#counted = 0
    for (const counters of this.#rows) for (let i = 0; i < counters.length; i++) counters[i]! >>= 1
  }
}

/**
 * Each row's slot is `first + row * step` (double hashing): `first` is FNV-1a over the key's
 * characters (keys are short digests, so a few dozen steps), `step` is mixed from it, and odd.
 */
function hashesOf(key: string): [number, number] {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
  const first = hash >>> 0
  return [first, (Math.imul(first, 0x9e3779b1) >>> 15) | 1]
}
