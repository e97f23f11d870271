import { setTimeout as sleep } from 'node:timers/promises'
import { expect, test } from 'vitest'
import { ProcessCacheStore } from './stores.js'

const answer = 'x'.repeat(49)
/** What one entry under a one-character key takes of the budget. */
const entryBytes = 2 * (answer.length + 1)

test('an expired answer gives its place to a new one, however often the live ones are asked for', async () => {
  const store = new ProcessCacheStore(4 * entryBytes)
  await store.set('a', answer, 0.02)
  for (const key of ['b', 'c', 'd']) {
    await store.set(key, answer, 60)
    for (let i = 0; i < 5; i++) await store.get(key)
  }
  await sleep(40)

  await store.set('e', answer, 60)

  expect(await store.get('e')).toBe(answer)
  expect(await store.get('a')).toBeUndefined()
  for (const key of ['b', 'c', 'd']) expect(await store.get(key)).toBe(answer)
})

test('a live answer asked for more often keeps its place against a new one', async () => {
  const store = new ProcessCacheStore(4 * entryBytes)
  for (const key of ['a', 'b', 'c', 'd']) {
    await store.set(key, answer, 60)
    for (let i = 0; i < 3; i++) await store.get(key)
  }

  await store.set('e', answer, 60)

  expect(await store.get('e')).toBeUndefined()
  for (const key of ['a', 'b', 'c', 'd']) expect(await store.get(key)).toBe(answer)
})
