/** No wait between two attempts is longer than this, however many came before. */
export const MAX_RETRY_DELAY_MS = 10 * 60 * 60 * 1000

/**
 * The wait before attempt `attempt + 1`: `base` doubled for each attempt before, at
 * most MAX_RETRY_DELAY_MS, then spread by ±20 % so that deliveries failing together
 * do not all come back together. With the defaults (10 s, 15 attempts) the attempts
 * span more than a day even when every draw is the shortest.
 */
export function retryDelay(base: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling * (0.8 + 0.4 * random()))
}
