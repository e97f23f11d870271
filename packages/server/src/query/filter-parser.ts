/*
 * The filter grammar (EBNF). Whitespace may separate tokens; it may not appear inside a
 * path, a macro, a modifier, a number or an operator.
 *
 *   filter     = [ or_expr ] ;                      (* empty filter: every record *)
 *   or_expr    = and_expr , { "||" , and_expr } ;
 *   and_expr   = unary , { "&&" , unary } ;
 *   unary      = "!" , unary | primary ;
 *   primary    = "(" , or_expr , ")" | comparison ;
 *   comparison = operand , operator , operand ;
 *   operator   = [ "?" ] , ( "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "!~" ) ;
 *   operand    = ( literal | path | macro ) , { modifier } ;
 *   modifier   = ":" , ( "isset" | "changed" | "length" | "each" | "lower" ) ;
 *   literal    = string | number | "true" | "false" | "null" ;
 *   path       = name , { "." , name } ;            (* at most 6 relations followed *)
 *   macro      = "@now" | "@todayStart" | "@todayEnd"
 *              | "@request.auth." , name , { "." , name }
 *              | "@request.body." , name , { "." , name } | "@request.query." , name
 *              | "@collection." , name , [ ":" , name ] , "." , name , { "." , name } ;
 *   name       = letter , { letter | digit } ;      (* letter includes "_" *)
 *   number     = [ "-" ] , digit , { digit } , [ "." , digit , { digit } ]
 *              , [ ( "e" | "E" ) , [ "+" | "-" ] , digit , { digit } ] ;
 *   string     = '"' , { char | escape } , '"' | "'" , { char | escape } , "'" ;
 *   escape     = "\" , ( '"' | "'" | "\" | "/" | "n" | "r" | "t" | "u" , 4 * hexdigit ) ;
 *
 * "!" binds tighter than "&&", which binds tighter than "||". Bounds: 4096 characters,
 * 32 levels of nesting (parentheses and "!"), 200 comparisons.
 */
import { FilterError } from '../errors/index.js'
import {
  type ComparisonNode,
  type FilterNode,
  type Modifier,
  type ModifierName,
  modifierNames,
  type OperandNode,
} from './filter-ast.js'
import { type Token, tokenize } from './filter-lexer.js'

const MAX_FILTER_LENGTH = 4096
const MAX_FILTER_DEPTH = 32
const MAX_FILTER_TERMS = 200
// Each level of parentheses may add an `||` and an `&&` node to the tree.
const MAX_TREE_DEPTH = 3 * MAX_FILTER_DEPTH + 1

/** Parses filter text into a tree; throws a FilterError with the position of the first problem. */
export function parseFilter(input: string): FilterNode {
  if (input.length > MAX_FILTER_LENGTH) {
    throw new FilterError(MAX_FILTER_LENGTH, `The filter is longer than ${MAX_FILTER_LENGTH} characters`)
  }
  return new Parser(tokenize(input)).parse()
}

class Parser {
  #index = 0
  #depth = 0
  #terms = 0

  constructor(readonly tokens: Token[]) {}

  parse(): FilterNode {
    if (this.#peek().kind === 'end') return { kind: 'and', operands: [], position: 0 }
    const node = this.#orExpression()
    const next = this.#peek()
    if (next.kind === ')') this.#fail(next.position, "Unexpected ')' without a matching '('")
    if (next.kind !== 'end') this.#fail(next.position, "Expected '&&', '||' or the end of the filter")
    return node
  }

  #orExpression(): FilterNode {
    const first = this.#andExpression()
    const operands = [first]
    while (this.#peek().kind === '||') {
      this.#index++
      operands.push(this.#andExpression())
    }
    return operands.length === 1 ? first : { kind: 'or', operands, position: first.position }
  }

  #andExpression(): FilterNode {
    const first = this.#unary()
    const operands = [first]
    while (this.#peek().kind === '&&') {
      this.#index++
      operands.push(this.#unary())
    }
    return operands.length === 1 ? first : { kind: 'and', operands, position: first.position }
  }

  #unary(): FilterNode {
    const token = this.#peek()
    if (token.kind === '!') {
      this.#index++
      this.#enter(token.position)
      const operand = this.#unary()
      this.#depth--
      return { kind: 'not', operand, position: token.position }
    }
    if (token.kind === '(') {
      this.#index++
      this.#enter(token.position)
      const inner = this.#orExpression()
      const close = this.#peek()
      if (close.kind !== ')')
        this.#fail(close.position, `Expected ')' to close the '(' at position ${token.position}`)
      this.#index++
      this.#depth--
      return inner
    }
    return this.#comparison()
  }

  #comparison(): ComparisonNode {
    const start = this.#peek().position
    this.#terms++
    if (this.#terms > MAX_FILTER_TERMS)
      this.#fail(start, `The filter has more than ${MAX_FILTER_TERMS} comparisons`)
    const left = this.#operand('Expected a comparison')
    const operatorToken = this.#peek()
    if (operatorToken.kind !== 'operator') {
      return this.#fail(operatorToken.position, 'Expected a comparison operator such as =, !=, >, ~ or ?=')
    }
    this.#index++
    const right = this.#operand('Expected a value after the operator')
    return {
      kind: 'comparison',
      operator: operatorToken.operator,
      anyOf: operatorToken.anyOf,
      left,
      right,
      position: operatorToken.position,
    }
  }

  #operand(expectation: string): OperandNode {
    const token = this.#peek()
    const position = token.position
    let operand: OperandNode
    switch (token.kind) {
      case 'string':
      case 'number':
        operand = { kind: 'literal', value: token.value, modifiers: [], position }
        break
      case 'path':
        operand = pathOperand(token.segments, position)
        break
      case 'macro':
        operand = this.#macro(token.segments, position, token.alias)
        break
      default:
        return this.#fail(position, expectation)
    }
    this.#index++
    operand.modifiers = this.#modifiers()
    return operand
  }

  #macro(segments: string[], position: number, alias: string | undefined): OperandNode {
    const [root, source, ...rest] = segments
    if (root === 'collection') {
      if (source === undefined)
        this.#fail(position + '@collection'.length, 'Expected a collection name after @collection')
      const prefix = `@collection.${source}${alias === undefined ? '' : `:${alias}`}.`
      if (rest.length === 0)
        this.#fail(position + prefix.length - 1, `Expected a field name after ${prefix.slice(0, -1)}`)
      return {
        kind: 'collection',
        collection: source!,
        alias: alias ?? null,
        path: rest,
        modifiers: [],
        position,
        pathPosition: position + prefix.length,
      }
    }
    if (segments.length === 1 && (root === 'now' || root === 'todayStart' || root === 'todayEnd')) {
      return { kind: 'macro', name: root, modifiers: [], position }
    }
    if (root === 'request' && (source === 'auth' || source === 'body' || source === 'query')) {
      const prefix = `@request.${source}`
      if (rest.length === 0) this.#fail(position + prefix.length, `Expected a name after ${prefix}`)
      if (source === 'query' && rest.length > 1) {
        this.#fail(position, `${prefix} takes a single name; nested paths are not supported`)
      }
      return { kind: 'request', source, path: rest, modifiers: [], position }
    }
    return this.#fail(position, `Unknown macro @${segments.join('.')}`)
  }

  #modifiers(): Modifier[] {
    const modifiers: Modifier[] = []
    for (let token = this.#peek(); token.kind === 'modifier'; token = this.#peek()) {
      const name = token.name as ModifierName
      if (!modifierNames.includes(name)) this.#fail(token.position, `Unknown modifier :${token.name}`)
      if (modifiers.some((m) => m.name === name))
        this.#fail(token.position, `The modifier :${name} is repeated`)
      modifiers.push({ name, position: token.position })
      this.#index++
    }
    return modifiers
  }

  #enter(position: number): void {
    this.#depth++
    if (this.#depth > MAX_FILTER_DEPTH) {
      this.#fail(position, `The filter is nested more than ${MAX_FILTER_DEPTH} levels deep`)
    }
  }

  #peek(): Token {
    return this.tokens[this.#index]!
  }

  #fail(position: number, why: string): never {
    throw new FilterError(position, why)
  }
}

function pathOperand(segments: string[], position: number): OperandNode {
  if (segments.length === 1) {
    const [word] = segments
    if (word === 'true' || word === 'false')
      return { kind: 'literal', value: word === 'true', modifiers: [], position }
    if (word === 'null') return { kind: 'literal', value: null, modifiers: [], position }
  }
  return { kind: 'field', path: segments, modifiers: [], position }
}

/**
 * Bounds a tree built by code as parseFilter bounds text: at most MAX_FILTER_TERMS
 * comparisons, and nesting shallow enough for the recursive compiler and evaluator.
 */
export function checkFilterTree(root: FilterNode): FilterNode {
  let terms = 0
  const visit = (node: FilterNode, depth: number): void => {
    if (depth > MAX_TREE_DEPTH) throw new FilterError(node.position, 'The filter is nested too deeply')
    if (node.kind === 'comparison') {
      terms++
      if (terms > MAX_FILTER_TERMS) {
        throw new FilterError(node.position, `The filter has more than ${MAX_FILTER_TERMS} comparisons`)
      }
    } else if (node.kind === 'not') {
      visit(node.operand, depth + 1)
    } else {
      for (const operand of node.operands) visit(operand, depth + 1)
    }
  }
  visit(root, 0)
  return root
}
