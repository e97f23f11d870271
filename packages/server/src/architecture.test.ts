import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { cruise } from 'dependency-cruiser'
import { describe, expect, test } from 'vitest'

const root = fileURLToPath(new URL('..', import.meta.url))
const rules = createRequire(import.meta.url)('../.dependency-cruiser.cjs')

async function violations(paths: string[]): Promise<string[]> {
  const previous = process.cwd()
  process.chdir(root)
  try {
    const result = await cruise(paths, { ruleSet: rules, ...rules.options, validate: true })
    const output = result.output as { summary: { violations: { rule: { name: string }; from: string }[] } }
    return output.summary.violations.map(({ rule, from }) => `${rule.name}: ${from}`)
  } finally {
    process.chdir(previous)
  }
}

describe('import direction', () => {
  test('the source tree keeps every layer rule', async () => {
    expect(await violations(['src'])).toEqual([])
  })

  test.each([
    ['errors', "import '../records/index.js'", 'errors-config-crypto-imports-upward'],
    ['db', "import '../collections/index.js'", 'db-imports-upward'],
    ['query', "import '../rules/index.js'", 'query-imports-upward'],
    ['records', "import '../http/index.js'", 'records-imports-upward'],
  ])('a planted import from %s upward is caught', async (folder, statement, rule) => {
    const name = `src/${folder}/planted-${randomBytes(4).toString('hex')}.ts`
    writeFileSync(`${root}/${name}`, `${statement}\n`)
    try {
      expect(await violations([name])).toContain(`${rule}: ${name}`)
    } finally {
      rmSync(`${root}/${name}`)
    }
  })
})

describe('transactions', () => {
  // Only the dialect knows which failures are a lost conflict worth a rerun (a deadlock),
  // so every write transaction goes through `dialect.transaction` or `dialect.schemaChange`.
  test('no module outside src/db opens a transaction of its own', () => {
    const offenders = readdirSync(`${root}/src`, { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.startsWith('db/'))
      .filter((path) => /\.transaction\(\)/.test(readFileSync(`${root}/src/${path}`, 'utf8')))
    expect(offenders).toEqual([])
  })
})
