import { afterEach, describe, expect, test, vi } from 'vitest'
import { ProcessState } from './process-state.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('process state counters', () => {
  test('a window counts until it ends, then starts again from one', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const state = new ProcessState()
    expect(await state.increment('ip:1', 1000)).toEqual({ count: 1, ttlMs: 1000 })
    vi.advanceTimersByTime(400)
    expect(await state.increment('ip:1', 1000)).toEqual({ count: 2, ttlMs: 600 })
    expect(await state.peek('ip:1')).toEqual({ count: 2, ttlMs: 600 })
    vi.advanceTimersByTime(600)
    expect(await state.peek('ip:1')).toEqual({ count: 0, ttlMs: 0 })
    expect(await state.increment('ip:1', 1000)).toEqual({ count: 1, ttlMs: 1000 })
  })

  test('keys are their own, whatever their names', async () => {
    const state = new ProcessState()
    for (const key of ['__proto__', 'constructor', 'prototype', "'; drop table x; --"])
      expect(await state.increment(key, 60_000)).toMatchObject({ count: 1 })
    expect(await state.increment('__proto__', 60_000)).toMatchObject({ count: 2 })
  })

  test('past 100,000 live windows the one started longest ago is forgotten first', async () => {
    const state = new ProcessState()
    for (let i = 0; i <= 100_000; i++) await state.increment(`key:${i}`, 60_000)
    expect(await state.peek('key:0')).toEqual({ count: 0, ttlMs: 0 })
    expect((await state.peek('key:1')).count).toBe(1)
    expect((await state.peek('key:100000')).count).toBe(1)
  })
})
