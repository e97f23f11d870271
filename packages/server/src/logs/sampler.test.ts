import { describe, expect, test } from 'vitest'
import { RateSampler } from './sampler.js'

describe('RateSampler', () => {
  test('keeps everything up to the rate, then a share that shrinks with the load', () => {
    let now = 10_000
    const sampler = new RateSampler(10, () => now)
    const shares = Array.from({ length: 40 }, () => sampler.next())
    expect(shares.slice(0, 10)).toEqual(Array(10).fill(1))
    expect(shares[19]).toBe(10 / 20)
    expect(shares[39]).toBe(10 / 40)

    // The next second starts from the last one's load, so a steady flood is thinned at once.
    now += 1000
    expect(sampler.next()).toBe(10 / 40)
    // After a quiet second the count starts afresh.
    now += 2000
    expect(sampler.next()).toBe(1)
  })
})
