/**
 * PocketBase's filter syntax (its `fexpr` grammar) read and written again in Plinth's filter
 * language. The two are close; what differs in meaning is rewritten (emptiness), what Plinth
 * cannot express is refused with the reason, never guessed.
 */

/** The translated rule, or why there is none. */
export type RuleTranslation = { rule: string } | { problem: string }

export interface RuleTranslationContext {
  /** The name of a PocketBase collection by its id, for `@request.auth.collectionId`. */
  collectionName(id: string): string | undefined
  /** Whether `<operand> = ""` is a valid Plinth comparison: the operand holds text. */
  holdsText(operand: string): boolean
}

type Operand =
  | { kind: 'identifier'; value: string }
  | { kind: 'text'; value: string }
  | { kind: 'number'; value: string }

interface Comparison {
  kind: 'comparison'
  left: Operand
  operator: string
  right: Operand
}

interface Group {
  kind: 'group'
  items: Array<{ join: '&&' | '||'; item: Comparison | Group }>
}

type Token =
  | Operand
  | { kind: 'sign'; value: string }
  | { kind: 'join'; value: '&&' | '||' }
  | { kind: '(' | ')' }

class Untranslatable extends Error {}

const signs = new Set([
  '=',
  '!=',
  '~',
  '!~',
  '<',
  '<=',
  '>',
  '>=',
  '?=',
  '?!=',
  '?~',
  '?!~',
  '?<',
  '?<=',
  '?>',
  '?>=',
])
const likeSigns = new Set(['~', '!~', '?~', '?!~'])
const modifiers = new Set(['isset', 'changed', 'length', 'each', 'lower'])
const macros = new Set(['@now', '@todayStart', '@todayEnd'])
const literals = new Set(['null', 'true', 'false'])

/** Lexes the way fexpr does: whitespace is space, tab or newline; `//` starts a comment to the line's end. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const ch = text[i]!
    if (ch === ' ' || ch === '\t' || ch === '\n') i++
    else if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch })
      i++
    } else if (/[A-Za-z@_#]/.test(ch)) {
      const end = scan(text, i + 1, /[A-Za-z0-9_.:]/)
      if (text[end] === '(')
        throw new Untranslatable(`Plinth has no function ${text.slice(i, end)}() in rules`)
      tokens.push({ kind: 'identifier', value: text.slice(i, end) })
      i = end
    } else if (ch === '-' || /[0-9]/.test(ch)) {
      const match = /^-?[0-9]*(?:\.[0-9]*)?/.exec(text.slice(i))![0]
      if (!/^-?[0-9]+(?:\.[0-9]+)?$/.test(match))
        throw new Untranslatable(`the number ${match} does not parse`)
      tokens.push({ kind: 'number', value: match })
      i += match.length
    } else if (ch === '"' || ch === "'") {
      let end = i + 1
      // fexpr ends the text at the first quote not right after a backslash, and unescapes only the quote.
      while (end < text.length && !(text[end] === ch && text[end - 1] !== '\\')) end++
      if (end >= text.length) throw new Untranslatable('a quoted text is not closed')
      tokens.push({ kind: 'text', value: text.slice(i + 1, end).replaceAll(`\\${ch}`, ch) })
      i = end + 1
    } else if (/[=?!<>~]/.test(ch)) {
      const end = scan(text, i, /[=?!<>~]/)
      const value = text.slice(i, end)
      if (!signs.has(value)) throw new Untranslatable(`the operator ${value} does not parse`)
      tokens.push({ kind: 'sign', value })
      i = end
    } else if (ch === '&' || ch === '|') {
      const end = scan(text, i, /[&|]/)
      const value = text.slice(i, end)
      if (value !== '&&' && value !== '||') throw new Untranslatable(`${value} does not parse`)
      tokens.push({ kind: 'join', value })
      i = end
    } else if (ch === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i)
      i = end === -1 ? text.length : end
    } else throw new Untranslatable(`the character ${JSON.stringify(ch)} does not parse`)
  }
  return tokens
}

function scan(text: string, from: number, part: RegExp): number {
  let end = from
  while (end < text.length && part.test(text[end]!)) end++
  return end
}

/** Comparisons and parenthesised groups joined by && and ||, as fexpr reads them. */
function parse(tokens: Token[]): Group {
  let at = 0
  const operand = (): Operand => {
    const token = tokens[at++]
    if (token?.kind === 'identifier' || token?.kind === 'text' || token?.kind === 'number') return token
    throw new Untranslatable('a comparison is incomplete')
  }
  const group = (nested: boolean): Group => {
    const items: Group['items'] = []
    let join: '&&' | '||' = '&&'
    for (;;) {
      if (tokens[at]?.kind === '(') {
        at++
        items.push({ join, item: group(true) })
      } else {
        const left = operand()
        const sign = tokens[at++]
        if (sign?.kind !== 'sign') throw new Untranslatable('a comparison has no operator')
        items.push({ join, item: { kind: 'comparison', left, operator: sign.value, right: operand() } })
      }
      const next = tokens[at]
      if (next === undefined) {
        if (nested) throw new Untranslatable('a parenthesis is not closed')
        return { kind: 'group', items }
      }
      if (next.kind === ')') {
        if (!nested) throw new Untranslatable('a parenthesis closes nothing')
        at++
        return { kind: 'group', items }
      }
      if (next.kind !== 'join') throw new Untranslatable('expected && or || between comparisons')
      join = next.value
      at++
    }
  }
  if (tokens.length === 0) throw new Untranslatable('it holds no comparison')
  return group(false)
}

/** A string literal as Plinth's lexer reads it back. */
function quote(value: string): string {
  const escaped = value.replace(/["\\]|\p{Cc}/gu, (ch) => {
    if (ch === '"' || ch === '\\') return `\\${ch}`
    if (ch === '\n') return '\\n'
    if (ch === '\r') return '\\r'
    if (ch === '\t') return '\\t'
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
  return `"${escaped}"`
}

function identifier(raw: string): string {
  if (literals.has(raw.toLowerCase())) return raw.toLowerCase()
  if (raw.startsWith('#')) throw new Untranslatable(`Plinth rules have no ${raw}`)
  const [path = '', ...suffixes] = raw.split(':')
  // `@collection.<name>:<alias>.<field>`: the alias is the only colon that is not a modifier.
  const isAlias = path.startsWith('@collection.') && suffixes.length > 0 && suffixes[0]!.includes('.')
  for (const modifier of isAlias ? suffixes.slice(1) : suffixes)
    if (!modifiers.has(modifier)) throw new Untranslatable(`Plinth has no modifier :${modifier}`)
  if (!path.startsWith('@')) return raw
  if (path.startsWith('@request.data.')) return `@request.body.${raw.slice('@request.data.'.length)}`
  if (path === '@request.auth.collectionId')
    throw new Untranslatable(
      '@request.auth.collectionId is only translated when compared with a collection id',
    )
  if (/^@request\.(auth|body|query)\.|^@collection\./.test(path) || macros.has(path)) return raw
  const name = /^@request\.[A-Za-z]+/.exec(path)?.[0] ?? path
  throw new Untranslatable(
    name.startsWith('@request.') ? `Plinth rules cannot read ${name}` : `Plinth has no ${name}`,
  )
}

function operand(side: Operand): string {
  if (side.kind === 'text') return quote(side.value)
  if (side.kind === 'number') return side.value
  return identifier(side.value)
}

const isEmptyValue = (side: Operand) =>
  (side.kind === 'text' && side.value === '') ||
  (side.kind === 'identifier' && side.value.toLowerCase() === 'null')

function comparison(node: Comparison, context: RuleTranslationContext): string {
  const { left, right, operator } = node
  if (likeSigns.has(operator))
    for (const side of [left, right])
      if (side.kind === 'text' && /[%\\]/.test(side.value))
        throw new Untranslatable(
          `${quote(side.value)} is a LIKE pattern in PocketBase; Plinth's ${operator} always means "contains"`,
        )
  for (const [own, other] of [
    [left, right],
    [right, left],
  ] as const)
    if (own.kind === 'identifier' && own.value === '@request.auth.collectionId') {
      const name = other.kind === 'text' ? context.collectionName(other.value) : undefined
      if (name === undefined || (operator !== '=' && operator !== '!='))
        throw new Untranslatable(
          '@request.auth.collectionId is only translated when compared with a collection id',
        )
      return `@request.auth.collectionName ${operator} ${quote(name)}`
    }
  // PocketBase stores no nulls: "" and null both mean empty, and a guest's @request.auth.* is "".
  // In Plinth a guest's values, empty relations and dates are null, and empty text is "".
  const emptySide = isEmptyValue(right) ? left : isEmptyValue(left) ? right : null
  if (
    (operator === '=' || operator === '!=') &&
    emptySide?.kind === 'identifier' &&
    !isEmptyValue(emptySide)
  ) {
    const subject = identifier(emptySide.value)
    const isEqual = operator === '='
    if (subject !== '@request.auth.id' && context.holdsText(subject))
      return isEqual ? `(${subject} = "" || ${subject} = null)` : `(${subject} != "" && ${subject} != null)`
    return `${subject} ${operator} null`
  }
  return `${operand(left)} ${operator} ${operand(right)}`
}

function emit(group: Group, context: RuleTranslationContext): string {
  return group.items
    .map(({ join, item }, index) => {
      const text = item.kind === 'group' ? `(${emit(item, context)})` : comparison(item, context)
      return index === 0 ? text : `${join} ${text}`
    })
    .join(' ')
}

/**
 * A PocketBase rule in Plinth's filter language. `""` (everyone) stays `""`; the result still
 * has to compile against the imported collections, which the caller checks.
 *
 * @example translateRule('@request.auth.id != "" && author = @request.auth.id', context)
 * // { rule: '@request.auth.id != null && author = @request.auth.id' }
 */
export function translateRule(rule: string, context: RuleTranslationContext): RuleTranslation {
  if (rule.trim() === '') return { rule: '' }
  try {
    return { rule: emit(parse(tokenize(rule)), context) }
  } catch (error) {
    if (error instanceof Untranslatable) return { problem: error.message }
    throw error
  }
}
