import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { errorCatalogue } from './errors.js'

const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8')
const documented = new Map(
  [...docs.matchAll(/^\|\s*`(\w+)`\s*\|\s*(\d{3})\s*\|/gm)].map((match) => [match[1]!, Number(match[2])]),
)

describe('error catalogue', () => {
  test.each(Object.entries(errorCatalogue))('%s is documented with its status', (code, { status }) => {
    expect(documented.get(code)).toBe(status)
  })

  test('docs list no code that the server does not know', () => {
    expect([...documented.keys()].filter((code) => !(code in errorCatalogue))).toEqual([])
  })
})
