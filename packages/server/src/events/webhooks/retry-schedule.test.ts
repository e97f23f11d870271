import { describe, expect, test } from 'vitest'
import { loadConfig } from '../../config/index.js'
import { MAX_RETRY_DELAY_MS, retryDelay } from './retry-schedule.js'

const HOUR = 60 * 60 * 1000

/** The time from the first attempt to the last, every wait drawn with `random`. */
function span(base: number, maxAttempts: number, random: () => number): number {
  let total = 0
  for (let attempt = 1; attempt < maxAttempts; attempt++) total += retryDelay(base, attempt, random)
  return total
}

describe('the webhook retry schedule', () => {
  const { retryBaseMs, maxAttempts } = loadConfig({}).webhooks

  test('spans more than a day with the defaults, even when every draw is the shortest', () => {
    expect(span(retryBaseMs, maxAttempts, () => 0)).toBeGreaterThan(24 * HOUR)
    expect(span(retryBaseMs, maxAttempts, () => 0.999_999)).toBeLessThan(4 * 24 * HOUR)
  })

  test('doubles each wait, spread by a fifth either way, up to a ceiling', () => {
    expect(retryDelay(1000, 1, () => 0.5)).toBe(1000)
    expect(retryDelay(1000, 2, () => 0.5)).toBe(2000)
    expect(retryDelay(1000, 5, () => 0.5)).toBe(16_000)
    expect(retryDelay(1000, 1, () => 0)).toBe(800)
    expect(retryDelay(1000, 1, () => 1)).toBe(1200)
    expect(retryDelay(1000, 40, () => 0.5)).toBe(MAX_RETRY_DELAY_MS)
  })

  test('draws different waits for deliveries that failed together', () => {
    const waits = new Set(Array.from({ length: 50 }, () => retryDelay(10_000, 3)))
    expect(waits.size).toBeGreaterThan(1)
  })
})
