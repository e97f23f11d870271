import { describe, expect, test } from 'vitest'
import { FilterError } from '../errors/index.js'
import type { FilterNode } from './filter-ast.js'
import { parseFilter } from './index.js'

const field = (path: string[], position: number, modifiers: FilterNode[] = []) => ({
  kind: 'field',
  path,
  modifiers,
  position,
})
const literal = (value: unknown, position: number) => ({ kind: 'literal', value, modifiers: [], position })

describe('parseFilter', () => {
  test.each([
    {
      input: 'title = "abc"',
      tree: {
        kind: 'comparison',
        operator: '=',
        anyOf: false,
        left: field(['title'], 0),
        right: literal('abc', 8),
        position: 6,
      },
    },
    {
      input: 'views>=-2.5',
      tree: {
        kind: 'comparison',
        operator: '>=',
        anyOf: false,
        left: field(['views'], 0),
        right: literal(-2.5, 7),
        position: 5,
      },
    },
    {
      input: 'tags ?!~ null',
      tree: {
        kind: 'comparison',
        operator: '!~',
        anyOf: true,
        left: field(['tags'], 0),
        right: literal(null, 9),
        position: 5,
      },
    },
    {
      input: 'author.company.name != false',
      tree: {
        kind: 'comparison',
        operator: '!=',
        anyOf: false,
        left: field(['author', 'company', 'name'], 0),
        right: literal(false, 23),
        position: 20,
      },
    },
    {
      input: "'it\\'s \\\"x\\\" \\u00e9\\n' = @request.body.name",
      tree: {
        kind: 'comparison',
        operator: '=',
        anyOf: false,
        left: literal('it\'s "x" é\n', 0),
        right: { kind: 'request', source: 'body', path: ['name'], modifiers: [], position: 25 },
        position: 23,
      },
    },
    {
      input: '@now > @request.auth.company.created',
      tree: {
        kind: 'comparison',
        operator: '>',
        anyOf: false,
        left: { kind: 'macro', name: 'now', modifiers: [], position: 0 },
        right: { kind: 'request', source: 'auth', path: ['company', 'created'], modifiers: [], position: 7 },
        position: 5,
      },
    },
  ])('parses $input', ({ input, tree }) => {
    expect(parseFilter(input)).toEqual(tree)
  })

  test('keeps modifiers with their positions', () => {
    const tree = parseFilter('tags:each:lower = "x":lower')
    expect(tree).toMatchObject({
      left: {
        modifiers: [
          { name: 'each', position: 4 },
          { name: 'lower', position: 9 },
        ],
      },
      right: { modifiers: [{ name: 'lower', position: 21 }] },
    })
  })

  test('! binds tighter than &&, which binds tighter than ||', () => {
    const tree = parseFilter('!a = 1 && b = 2 || c = 3 && !(d = 4 || e = 5)')
    const shape = (node: FilterNode): unknown => {
      if (node.kind === 'comparison') return node.left.kind === 'field' ? node.left.path[0] : '?'
      if (node.kind === 'not') return ['not', shape(node.operand)]
      return [node.kind, ...node.operands.map(shape)]
    }
    expect(shape(tree)).toEqual(['or', ['and', ['not', 'a'], 'b'], ['and', 'c', ['not', ['or', 'd', 'e']]]])
  })

  test('parses an empty filter as the empty conjunction', () => {
    expect(parseFilter(' \n\t ')).toEqual({ kind: 'and', operands: [], position: 0 })
  })

  test('accepts the deepest and widest filters the bounds allow', () => {
    expect(() => parseFilter(`${'('.repeat(32)}a = 1${')'.repeat(32)}`)).not.toThrow()
    expect(() => parseFilter(Array.from({ length: 200 }, () => 'a = 1').join(' || '))).not.toThrow()
    expect(() => parseFilter(`title = "${'x'.repeat(4086)}"`)).not.toThrow()
  })

  test.each([
    { input: 'a = "x', position: 4, message: 'Unterminated string' },
    { input: 'a = (1)', position: 4, message: 'Expected a value after the operator' },
    { input: 'a = 1 b = 2', position: 6, message: "Expected '&&', '||' or the end of the filter" },
    { input: '(a = 1', position: 6, message: "Expected ')' to close the '(' at position 0" },
    { input: 'a = 1)', position: 5, message: "Unexpected ')'" },
    { input: 'a :lower = 1', position: 2, message: 'A modifier must follow its operand directly' },
    { input: 'a = 1 ||', position: 8, message: 'Expected a comparison' },
    { input: 'a = #', position: 4, message: 'Unexpected character "#"' },
  ])('reports $message at $position in $input', ({ input, position, message }) => {
    const error = catchError(() => parseFilter(input))
    expect(error).toBeInstanceOf(FilterError)
    expect(error.position).toBe(position)
    expect(error.message).toContain(message)
    expect(error.fields).toEqual({ filter: { code: 'invalid_filter', message: error.message } })
  })
})

function catchError(work: () => unknown): FilterError {
  try {
    work()
  } catch (error) {
    return error as FilterError
  }
  throw new Error('Expected an error')
}
