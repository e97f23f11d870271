import { afterEach, describe, expect, test, vi } from 'vitest'
import { noticedNumber, noticeSender } from './notices.js'
import { ProcessState } from './process-state.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('notices of commits', () => {
  test('a burst costs one notice now and one at the end, carrying the largest number named', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const state = new ProcessState()
    const heard: string[] = []
    state.subscribe('events', (message) => heard.push(message))
    const notice = noticeSender(state, 'events', 10)
    notice(5)
    for (const newest of [7, 9, 8]) notice(newest)
    await vi.advanceTimersByTimeAsync(10)
    expect(heard).toEqual(['5', '9'])
    expect(heard.map(noticedNumber)).toEqual([5, 9])
  })

  test('anything but a positive number of at most 15 digits names nothing', () => {
    for (const message of [
      '',
      '0',
      '-1',
      '1e3',
      '12.5',
      ' 7',
      '0x10',
      '1234567890123456',
      '__proto__',
      'constructor',
    ])
      expect(noticedNumber(message)).toBeUndefined()
    expect(noticedNumber('123456789012345')).toBe(123456789012345)
  })
})
