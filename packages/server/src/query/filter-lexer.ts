import { FilterError, isPrototypeKey } from '../errors/index.js'
import type { ComparisonOperator } from './filter-ast.js'

export type Token =
  | { kind: 'string'; position: number; value: string }
  | { kind: 'number'; position: number; value: number }
  /** An identifier or a dotted path of identifiers; `true`, `false`, `null` arrive as one-segment paths. */
  | { kind: 'path'; position: number; segments: string[] }
  /** `alias` is set for `@collection.<name>:<alias>.<path>`, whose segments then skip the alias. */
  | { kind: 'macro'; position: number; segments: string[]; alias?: string }
  | { kind: 'modifier'; position: number; name: string }
  | { kind: 'operator'; position: number; operator: ComparisonOperator; anyOf: boolean }
  | { kind: '&&' | '||' | '!' | '(' | ')' | 'end'; position: number }

const identifierStart = /[A-Za-z_]/
const identifierPart = /[A-Za-z0-9_]/
const digit = /[0-9]/
const whitespace = /[ \t\r\n]/
const numberPattern = /-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y

// Longest first, so `?!=` wins over `?!` and `>=` over `>`.
const operatorSpellings: [string, ComparisonOperator, boolean][] = [
  ['?!=', '!=', true],
  ['?!~', '!~', true],
  ['?>=', '>=', true],
  ['?<=', '<=', true],
  ['?=', '=', true],
  ['?>', '>', true],
  ['?<', '<', true],
  ['?~', '~', true],
  ['!=', '!=', false],
  ['!~', '!~', false],
  ['>=', '>=', false],
  ['<=', '<=', false],
  ['=', '=', false],
  ['>', '>', false],
  ['<', '<', false],
  ['~', '~', false],
]

const simpleEscapes: Record<string, string> = {
  '"': '"',
  "'": "'",
  '\\': '\\',
  '/': '/',
  n: '\n',
  r: '\r',
  t: '\t',
}

/** Splits filter text into tokens; the last token is always `end`. */
export function tokenize(input: string, param = 'filter'): Token[] {
  const tokens: Token[] = []
  let i = 0

  const fail = (position: number, why: string): never => {
    throw new FilterError(position, why, param)
  }

  const readIdentifier = (start: number): string => {
    if (!identifierStart.test(input[start] ?? '')) fail(start, 'Expected a name')
    let end = start + 1
    while (end < input.length && identifierPart.test(input[end]!)) end++
    const name = input.slice(start, end)
    if (isPrototypeKey(name)) fail(start, `"${name}" is a reserved name`)
    return name
  }

  const readSegments = (start: number): string[] => {
    const segments = [readIdentifier(start)]
    let end = start + segments[0]!.length
    while (input[end] === '.') {
      if (!identifierStart.test(input[end + 1] ?? '')) fail(end + 1, "Expected a field name after '.'")
      const segment = readIdentifier(end + 1)
      segments.push(segment)
      end += 1 + segment.length
    }
    return segments
  }

  const readString = (start: number): { value: string; end: number } => {
    const quote = input[start]
    let value = ''
    let j = start + 1
    while (j < input.length) {
      const char = input[j]!
      if (char === quote) return { value, end: j + 1 }
      if (char !== '\\') {
        value += char
        j++
        continue
      }
      const next = input[j + 1]
      if (next === undefined) break
      if (next === 'u') {
        const hex = input.slice(j + 2, j + 6)
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(j, 'Expected four hex digits after \\u')
        if (/^0{4}$/.test(hex)) fail(j, 'NUL characters are not allowed')
        value += String.fromCharCode(Number.parseInt(hex, 16))
        j += 6
        continue
      }
      const escaped = simpleEscapes[next]
      if (escaped === undefined) fail(j, `Unknown escape sequence \\${next}`)
      value += escaped
      j += 2
    }
    return fail(start, 'Unterminated string')
  }

  // PostgreSQL text cannot hold NUL, so a literal with one could never be bound.
  const nul = input.indexOf('\u0000')
  if (nul >= 0) fail(nul, 'NUL characters are not allowed')

  while (i < input.length) {
    const char = input[i]!
    if (whitespace.test(char)) {
      i++
      continue
    }
    const start = i
    if (char === '(' || char === ')') {
      tokens.push({ kind: char, position: start })
      i++
      continue
    }
    if (char === '&' || char === '|') {
      if (input[i + 1] !== char) fail(start, `Expected '${char}${char}'`)
      tokens.push({ kind: char === '&' ? '&&' : '||', position: start })
      i += 2
      continue
    }
    if (char === '"' || char === "'") {
      const { value, end } = readString(start)
      tokens.push({ kind: 'string', position: start, value })
      i = end
      continue
    }
    if (digit.test(char) || (char === '-' && digit.test(input[i + 1] ?? ''))) {
      numberPattern.lastIndex = start
      const text = numberPattern.exec(input)![0]
      const value = Number(text)
      if (!Number.isFinite(value)) fail(start, 'The number is out of range')
      tokens.push({ kind: 'number', position: start, value })
      i += text.length
      continue
    }
    if (identifierStart.test(char)) {
      const segments = readSegments(start)
      tokens.push({ kind: 'path', position: start, segments })
      i += segments.join('.').length
      continue
    }
    if (char === '@') {
      if (!identifierStart.test(input[i + 1] ?? '')) fail(start, "Expected a macro name after '@'")
      const segments = readSegments(start + 1)
      i += 1 + segments.join('.').length
      // `@collection.name:alias.field`: a name, a colon and a name directly followed by a dot is an alias, not a modifier.
      const alias = segments.length === 2 && segments[0] === 'collection' ? aliasAt(input, i) : undefined
      if (alias === undefined) {
        tokens.push({ kind: 'macro', position: start, segments })
        continue
      }
      const rest = readSegments(i + alias.length + 2)
      tokens.push({ kind: 'macro', position: start, segments: [...segments, ...rest], alias })
      i += alias.length + 2 + rest.join('.').length
      continue
    }
    if (char === ':') {
      if (i > 0 && whitespace.test(input[i - 1]!)) fail(start, 'A modifier must follow its operand directly')
      if (!identifierStart.test(input[i + 1] ?? '')) fail(start, "Expected a modifier name after ':'")
      const name = readIdentifier(start + 1)
      tokens.push({ kind: 'modifier', position: start, name })
      i += 1 + name.length
      continue
    }
    const spelling = operatorSpellings.find(([text]) => input.startsWith(text, i))
    if (spelling) {
      tokens.push({ kind: 'operator', position: start, operator: spelling[1], anyOf: spelling[2] })
      i += spelling[0].length
      continue
    }
    if (char === '!') {
      tokens.push({ kind: '!', position: start })
      i++
      continue
    }
    if (char === '?') fail(start, "Expected a comparison operator after '?'")
    fail(start, `Unexpected character ${JSON.stringify(char)}`)
  }
  tokens.push({ kind: 'end', position: input.length })
  return tokens
}

function aliasAt(input: string, colon: number): string | undefined {
  if (input[colon] !== ':' || !identifierStart.test(input[colon + 1] ?? '')) return undefined
  let end = colon + 2
  while (end < input.length && identifierPart.test(input[end]!)) end++
  if (input[end] !== '.' || !identifierStart.test(input[end + 1] ?? '')) return undefined
  return input.slice(colon + 1, end)
}
