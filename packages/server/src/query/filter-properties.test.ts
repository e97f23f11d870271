import fc from 'fast-check'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { junctionTableName } from '../collections/types.js'
import type { Dialect } from '../db/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openTestDatabase } from '../test-support/dialect-fixture.js'
import { collection, createTables, field, insertRecords } from '../test-support/query-fixtures.js'
import type {
  ComparisonNode,
  ComparisonOperator,
  FilterNode,
  MacroName,
  ModifierName,
  OperandNode,
} from './filter-ast.js'
import { comparisonOperators } from './filter-ast.js'
import type { FilterContext } from './filter-context.js'
import { compileFilter, evaluateFilter, parseFilter } from './index.js'

type Row = Record<string, unknown>

const items = collection('items', [
  field('items', 's', 'text'),
  field('items', 's2', 'text'),
  field('items', 'n', 'number'),
  field('items', 'n2', 'number'),
  field('items', 'b', 'bool'),
  field('items', 'd', 'date'),
  field('items', 'm', 'select', { values: ['news', 'tech', 'a%', '_x', 'B'], maxSelect: 5 }),
  field('items', 'parent', 'relation', { collection: 'items', maxSelect: 1 }),
  field('items', 'links', 'relation', { collection: 'items', maxSelect: 3 }),
])

const links = items.fields.find((f) => f.name === 'links')!
const NOW = new Date('2024-05-01T10:00:00.000Z')

// Few distinct characters, so that equal values, prefixes and wildcards meet often.
const text = fc.string({
  unit: fc.constantFrom('a', 'A', 'b', 'B', '%', '_', '\\', ' ', 'z', '0'),
  maxLength: 4,
})
const number = fc.integer({ min: -20, max: 20 }).map((i) => i / 4)
const fixedDates = ['2024-05-01T10:00:00.000Z', '2024-05-01T00:00:00.000Z', '2023-12-31T23:59:59.999Z']
const date = fc.oneof(
  fc.constantFrom(...fixedDates),
  fc
    .integer({ min: Date.UTC(2023, 11, 30), max: Date.UTC(2024, 4, 3) })
    .map((ms) => new Date(ms).toISOString()),
)
const selectValue = fc.constantFrom('news', 'tech', 'a%', '_x', 'B')
const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 4 })

const row = fc.record({
  s: nullable(text),
  s2: nullable(text),
  n: nullable(number),
  n2: nullable(number),
  b: nullable(fc.boolean()),
  d: nullable(date),
  m: nullable(fc.uniqueArray(selectValue, { maxLength: 3 })),
  created: date,
})

const idOf = (index: number) => `r${String(index).padStart(2, '0')}`

/** Rows whose relations point at other rows of the same dataset (or nowhere). */
const dataset = fc
  .array(
    fc.record({
      fields: row,
      parent: nullable(fc.nat(9)),
      links: fc.uniqueArray(fc.nat(9), { maxLength: 3 }),
    }),
    { maxLength: 10 },
  )
  .map((rows) =>
    rows.map(
      ({ fields, parent, links }, i): Row => ({
        id: idOf(i),
        ...fields,
        parent: parent !== null && parent < rows.length ? idOf(parent) : null,
        links: links.filter((l) => l < rows.length).map(idOf),
        updated: fixedDates[0],
      }),
    ),
  )

/** A request body value of any shape, to exercise conversion and incomparable values. */
const bodyValue = fc.oneof(
  nullable(text),
  number,
  fc.boolean(),
  date,
  number.map(String),
  fc.constantFrom('true', 'false', '2024-05-01'),
  fc.uniqueArray(fc.oneof(selectValue, text), { maxLength: 3 }),
  fc.constant({ nested: true }),
)

const modifiers = (...names: ModifierName[]) => names.map((name) => ({ name, position: 0 }))
const fieldOperand = (name: string, ...names: ModifierName[]): OperandNode => ({
  kind: 'field',
  path: [name],
  modifiers: modifiers(...names),
  position: 0,
})
const literal = (value: string | number | boolean | null): OperandNode => ({
  kind: 'literal',
  value,
  modifiers: [],
  position: 0,
})
const macro = (name: MacroName): OperandNode => ({ kind: 'macro', name, modifiers: [], position: 0 })
const body: OperandNode = { kind: 'request', source: 'body', path: ['v'], modifiers: [], position: 0 }

const comparison = (
  left: OperandNode,
  operator: ComparisonOperator,
  anyOf: boolean,
  right: OperandNode,
): ComparisonNode => ({
  kind: 'comparison',
  operator,
  anyOf,
  left,
  right,
  position: 0,
})

const anyOperator = fc.constantFrom(...comparisonOperators)
const orderOperator = fc.constantFrom<ComparisonOperator>('=', '!=', '>', '>=', '<', '<=')

const textPaths = {
  scalar: [['s'], ['s2'], ['parent', 's'], ['parent', 'parent', 's'], ['parent'], ['id']],
  multi: [
    ['m'],
    ['links'],
    ['links', 's'],
    ['links', 'parent', 's'],
    ['parent', 'links', 's'],
    ['parent', 'm'],
    ['links', 'm'],
  ],
}
const numberPaths = {
  scalar: [['n'], ['n2'], ['parent', 'n']],
  multi: [
    ['links', 'n'],
    ['links', 'parent', 'n'],
  ],
}

const pathOperand = (path: readonly string[], ...names: ModifierName[]): OperandNode => ({
  kind: 'field',
  path: [...path],
  modifiers: modifiers(...names),
  position: 0,
})

/** A side of a comparison: a path, possibly multi-valued, with the modifiers its type allows. */
const sideOf = (paths: { scalar: string[][]; multi: string[][] }, isText: boolean) =>
  fc.oneof(
    fc.tuple(fc.constantFrom(...paths.scalar), fc.boolean()).map(([path, lower]) => ({
      operand: pathOperand(path, ...(lower && isText ? (['lower'] as const) : [])),
      isMulti: false,
    })),
    fc.tuple(fc.constantFrom(...paths.multi), fc.boolean(), fc.boolean()).map(([path, each, lower]) => ({
      operand: pathOperand(
        path,
        ...(each ? (['each'] as const) : []),
        ...(lower && isText ? (['lower'] as const) : []),
      ),
      isMulti: true,
    })),
  )

const textValue = fc.oneof(
  text.map(literal),
  fc.oneof(selectValue, fc.constantFrom('r00', 'r01', 'r02')).map(literal),
  text.map((t): OperandNode => ({ ...literal(t), modifiers: modifiers('lower') })),
  fc.constant(literal(null)),
  fc.constant(body),
)

const textComparison = fc
  .tuple(
    sideOf(textPaths, true),
    anyOperator,
    fc.boolean(),
    fc.oneof(textValue, sideOf(textPaths, true)),
    fc.boolean(),
  )
  .map(([own, operator, anyOf, other, flip]) => {
    const right = 'isMulti' in other ? (own.isMulti && other.isMulti ? literal('a') : other.operand) : other
    const hasEach = [own.operand, right].some((o) => o.modifiers.some((m) => m.name === 'each'))
    const node = comparison(own.operand, operator, anyOf && !hasEach, right)
    return flip ? { ...node, left: node.right, right: node.left } : node
  })

const numberComparison = fc
  .tuple(
    sideOf(numberPaths, false),
    orderOperator,
    fc.boolean(),
    fc.oneof(
      number.map(literal),
      number.map((n) => literal(String(n))),
      fc.constant(literal(null)),
      fc.constantFrom(fieldOperand('n2'), pathOperand(['parent', 'n']), body),
    ),
  )
  .map(([own, operator, anyOf, other]) => {
    const hasEach = own.operand.modifiers.some((m) => m.name === 'each')
    return comparison(own.operand, operator, anyOf && !hasEach, other)
  })

const boolComparison = fc
  .tuple(
    fc.constantFrom(['b'], ['parent', 'b']),
    orderOperator,
    fc.oneof(fc.constantFrom(literal(true), literal(false), literal(null)), fc.constant(body)),
  )
  .map(([path, operator, other]) => comparison(pathOperand(path), operator, false, other))

const dateComparison = fc
  .tuple(
    orderOperator,
    fc.oneof(
      date.map(literal),
      date.map((iso) => literal(iso.slice(0, 10))),
      date.map((iso) => literal(`${iso.slice(0, 10)} ${iso.slice(11, 19)}`)),
      fc.constantFrom(macro('now'), macro('todayStart'), macro('todayEnd'), literal(null)),
      fc.constantFrom(fieldOperand('created'), pathOperand(['parent', 'd']), body),
    ),
  )
  .map(([operator, other]) => comparison(fieldOperand('d'), operator, false, other))

const lengthComparison = fc
  .tuple(
    fc.constantFrom(['m'], ['links'], ['links', 'm'], ['parent', 'links'], ['links', 'parent']),
    orderOperator,
    fc.oneof(fc.integer({ min: 0, max: 4 }).map(literal), fc.constant(fieldOperand('n'))),
  )
  .map(([path, operator, other]) => comparison(pathOperand(path, 'length'), operator, false, other))

const { node: filterTree } = fc.letrec<{
  node: FilterNode
  not: FilterNode
  and: FilterNode
  or: FilterNode
}>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    textComparison,
    numberComparison,
    boolComparison,
    dateComparison,
    lengthComparison,
    tie('not'),
    tie('and'),
    tie('or'),
  ),
  not: tie('node').map((operand): FilterNode => ({ kind: 'not', operand, position: 0 })),
  and: fc
    .array(tie('node'), { minLength: 2, maxLength: 3 })
    .map((operands): FilterNode => ({ kind: 'and', operands, position: 0 })),
  or: fc
    .array(tie('node'), { minLength: 2, maxLength: 3 })
    .map((operands): FilterNode => ({ kind: 'or', operands, position: 0 })),
}))

/** Writes a tree back as filter text, so the parser is part of every run. */
function print(node: FilterNode): string {
  switch (node.kind) {
    case 'and':
      return `(${node.operands.map(print).join(' && ')})`
    case 'or':
      return `(${node.operands.map(print).join(' || ')})`
    case 'not':
      return `!(${print(node.operand)})`
    case 'comparison':
      return `${printOperand(node.left)} ${node.anyOf ? '?' : ''}${node.operator} ${printOperand(node.right)}`
  }
}

function printOperand(operand: OperandNode): string {
  const suffix = operand.modifiers.map((m) => `:${m.name}`).join('')
  switch (operand.kind) {
    case 'literal':
      return `${typeof operand.value === 'string' ? JSON.stringify(operand.value) : String(operand.value)}${suffix}`
    case 'field':
      return `${operand.path.join('.')}${suffix}`
    case 'macro':
      return `@${operand.name}${suffix}`
    case 'request':
      return `@request.${operand.source}.${operand.path.join('.')}${suffix}`
    case 'collection':
      return `@collection.${operand.collection}${operand.alias ? `:${operand.alias}` : ''}.${operand.path.join('.')}${suffix}`
  }
}

function withoutPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPositions)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== 'position')
      .map(([key, v]) => [key, withoutPositions(v)]),
  )
}

test('printing a tree and parsing it back gives the same tree', () => {
  fc.assert(
    fc.property(filterTree, (tree) => {
      expect(withoutPositions(parseFilter(print(tree)))).toEqual(withoutPositions(tree))
    }),
    { numRuns: 300 },
  )
})

describe.each(testDialects)('SQL and in-memory evaluation agree on %s', (kind) => {
  let dialect: Dialect
  let close: (() => Promise<void>) | undefined

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    ;({ dialect, close } = await openTestDatabase(kind))
    await createTables(dialect, [items])
  })
  afterAll(async () => close?.())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  test('on random data and random well-typed filters', async () => {
    await fc.assert(
      fc.asyncProperty(
        dataset,
        fc.array(filterTree, { minLength: 1, maxLength: 4 }),
        bodyValue,
        async (rows, trees, v) => {
          await dialect.db.deleteFrom('items').execute()
          await dialect.db.deleteFrom(junctionTableName(links)).execute()
          await insertRecords(dialect, items, rows)
          const ctx: FilterContext = {
            dialect,
            collection: items,
            alias: 'r',
            collections: (name) => (name === 'items' ? items : undefined),
            canSeeHidden: false,
            now: NOW,
            request: { auth: null, body: { v }, query: {} },
          }
          const lookup = (_collection: string, id: string) => rows.find((r) => r.id === id)
          for (const tree of trees) {
            const filter = print(tree)
            const found = await dialect.db
              .selectFrom('items as r')
              .select('r.id')
              .where(compileFilter(filter, ctx))
              .orderBy('r.id')
              .execute()
            const expected = rows
              .filter((r) => evaluateFilter(filter, r, { ...ctx, lookup }))
              .map((r) => r.id)
            expect({ filter, ids: found.map((r) => r.id) }).toEqual({ filter, ids: expected })
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})
