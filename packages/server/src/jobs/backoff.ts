/** Retries never wait longer than this, however many attempts came before. */
const MAX_DELAY_MS = 60 * 60 * 1000

/**
 * Exponential backoff with jitter: `base`, then twice that, and so on, each drawn from
 * its upper half so that jobs failing together do not all come back together.
 */
export function retryDelay(base: number, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, base * 2 ** Math.max(0, attempt - 1))
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}
