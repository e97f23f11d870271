/**
 * Decides which requests a busy node keeps. Up to `maxPerSecond` every request is kept;
 * above it each is kept with the chance `maxPerSecond / rate`, where the rate is the
 * larger of the last second's count and this second's so far (so a sudden burst is
 * thinned within its first second). The chance is recorded on the row: summing
 * `1 / sampleRate` over rows estimates how many requests there were.
 */
export class RateSampler {
  #second = 0
  #count = 0
  #previous = 0

  constructor(
    private readonly maxPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one request and answers the share of requests kept at this moment (0 < share ≤ 1). */
  next(): number {
    const second = Math.floor(this.now() / 1000)
    if (second !== this.#second) {
      this.#previous = second === this.#second + 1 ? this.#count : 0
      this.#second = second
      this.#count = 0
    }
    this.#count++
    return Math.min(1, this.maxPerSecond / Math.max(this.#previous, this.#count))
  }
}
