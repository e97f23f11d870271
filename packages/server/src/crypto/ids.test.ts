import { describe, expect, test } from 'vitest'
import { newId, randomTag } from './ids.js'

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('newId', () => {
  test('is a UUIDv7 carrying the time it was made', () => {
    const now = Date.now()
    const id = newId(now)
    expect(id).toMatch(UUID_V7)
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(now)
  })

  test('ids made in the same millisecond, and across many pool refills, sort in the order made', () => {
    const now = Date.now() + 1000
    const ids = Array.from({ length: 2000 }, () => newId(now))
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
  })

  test('a clock that steps back does not break the order', () => {
    const first = newId(Date.now() + 5000)
    const second = newId(Date.now())
    expect(second > first).toBe(true)
  })
})

describe('randomTag', () => {
  test('differs on every call and has the asked entropy', () => {
    const tags = Array.from({ length: 1000 }, () => randomTag(9))
    expect(new Set(tags).size).toBe(tags.length)
    for (const tag of tags) expect(tag).toMatch(/^[A-Za-z0-9_-]{12}$/)
  })
})
