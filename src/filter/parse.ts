import {
  AndNode,
  CompareNode,
  FunctionCallNode,
  IdentifierNode,
  LiteralNode,
  MACROS,
  MacroNode,
  MODIFIERS,
  OrNode,
  PlaceholderNode,
  type FilterNode,
  type MacroName,
  type Modifier,
  type OperandNode,
} from './ast.js'
import { bindPlaceholders, type FilterParams } from './bind.js'
import { FilterSyntaxError } from './errors.js'
import { lex, type Token } from './lex.js'
import {
  MAX_FILTER_DEPTH,
  MAX_FILTER_EXPRESSIONS,
  MAX_FILTER_LENGTH,
  MAX_FUNCTION_ARGS,
  MAX_FUNCTION_DEPTH,
} from './limits.js'

const MACRO_NAMES: ReadonlySet<string> = new Set(MACROS)
const MODIFIER_NAMES: ReadonlySet<string> = new Set(MODIFIERS)
const KEYWORDS: ReadonlyMap<string, boolean | null> = new Map([
  ['true', true],
  ['false', false],
  ['null', null],
])

/**
 * Parses a filter into its AST; `&&` binds tighter than `||`. An empty (or comments-only) filter
 * gives `undefined`: no condition. With `params`, every `{:name}` becomes the literal
 * `params[name]`; without, placeholders stay in the AST for `bindPlaceholders`.
 *
 * @example
 * parseFilter('status = "active" && (owner = {:me} || public = true)', { me: 'abc' })
 */
export function parseFilter(source: string, params?: FilterParams): FilterNode | undefined {
  if (source.length > MAX_FILTER_LENGTH) {
    throw new FilterSyntaxError(`filter is too long (max ${MAX_FILTER_LENGTH} characters)`, MAX_FILTER_LENGTH)
  }
  const ast = parseCached(source)
  return ast !== undefined && params !== undefined ? bindPlaceholders(ast, params) : ast
}

/** Parsed filters kept by source text (rules are parsed on every request); least recently used dropped past this. */
export const PARSE_CACHE_SIZE = 500

// The AST is frozen, so one parse can serve every request. Failed parses are not kept: they throw again.
const parsed = new Map<string, FilterNode | undefined>()

function parseCached(source: string): FilterNode | undefined {
  if (parsed.has(source)) {
    const hit = parsed.get(source)
    parsed.delete(source)
    parsed.set(source, hit)
    return hit
  }
  const ast = new Parser(lex(source)).parse()
  parsed.set(source, ast)
  if (parsed.size > PARSE_CACHE_SIZE) parsed.delete(parsed.keys().next().value!)
  return ast
}

class Parser {
  #index = 0
  #depth = 0
  #expressions = 0

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): FilterNode | undefined {
    if (this.#peek().type === 'eof') return undefined
    const node = this.#or()
    this.#expect('eof')
    return node
  }

  #or(): FilterNode {
    const operands = [this.#and()]
    while (this.#peek().type === '||') {
      this.#next()
      operands.push(this.#and())
    }
    return operands.length === 1 ? operands[0]! : OrNode.create(operands)
  }

  #and(): FilterNode {
    const operands = [this.#term()]
    while (this.#peek().type === '&&') {
      this.#next()
      operands.push(this.#term())
    }
    return operands.length === 1 ? operands[0]! : AndNode.create(operands)
  }

  #term(): FilterNode {
    const token = this.#peek()
    if (token.type === '(') {
      if (++this.#depth > MAX_FILTER_DEPTH) {
        throw new FilterSyntaxError(`too deeply nested parentheses (max ${MAX_FILTER_DEPTH})`, token.position)
      }
      this.#next()
      if (this.#peek().type === ')') throw new FilterSyntaxError('empty filter expression', token.position)
      const inner = this.#or()
      this.#expect(')')
      this.#depth--
      return inner
    }
    const left = this.#operand(0)
    const op = this.#next()
    if (op.type !== 'op') throw unexpected(op)
    const right = this.#operand(0)
    if (++this.#expressions > MAX_FILTER_EXPRESSIONS) {
      throw new FilterSyntaxError(`too many expressions (max ${MAX_FILTER_EXPRESSIONS})`, left.position)
    }
    return CompareNode.create(op.op, left, right, left.position)
  }

  #operand(functionDepth: number): OperandNode {
    const token = this.#next()
    switch (token.type) {
      case 'string':
      case 'number':
        return LiteralNode.create(token.value, token.position)
      case 'placeholder':
        return PlaceholderNode.create(token.name, token.position)
      case 'identifier': {
        const next = this.#peek()
        if (next.type === '(' && next.position === token.end) return this.#call(token, functionDepth + 1)
        return identifierOperand(token)
      }
      default:
        throw unexpected(token)
    }
  }

  #call(name: Token, depth: number): FunctionCallNode {
    if (depth > MAX_FUNCTION_DEPTH) {
      throw new FilterSyntaxError(
        `too deeply nested function calls (max ${MAX_FUNCTION_DEPTH})`,
        name.position,
      )
    }
    this.#expect('(')
    const args: OperandNode[] = []
    while (this.#peek().type !== ')') {
      if (args.length === MAX_FUNCTION_ARGS) {
        throw new FilterSyntaxError(
          `too many function arguments (max ${MAX_FUNCTION_ARGS})`,
          this.#peek().position,
        )
      }
      args.push(this.#operand(depth))
      if (this.#peek().type !== ',') break
      this.#next()
    }
    this.#expect(')')
    return FunctionCallNode.create(name.text, args, name.position)
  }

  #peek(): Token {
    return this.tokens[this.#index]!
  }

  #next(): Token {
    const token = this.tokens[this.#index]!
    if (token.type !== 'eof') this.#index++
    return token
  }

  #expect(type: Token['type']): void {
    const token = this.#next()
    if (token.type !== type) throw unexpected(token)
  }
}

function unexpected(token: Token): FilterSyntaxError {
  if (token.type === 'eof') return new FilterSyntaxError('unexpected end of filter', token.position)
  return new FilterSyntaxError(`unexpected token "${token.text}"`, token.position)
}

/** An identifier token as a node: a keyword literal, a macro, or a path with its modifier. */
export function identifierOperand(token: Pick<Token, 'text' | 'position'>): OperandNode {
  const text = token.text
  const lower = text.toLowerCase()
  if (KEYWORDS.has(lower)) return LiteralNode.create(KEYWORDS.get(lower)!, token.position)
  if (MACRO_NAMES.has(text)) return MacroNode.create(text as MacroName, token.position)
  const segments = text.split('.')
  const last = segments.length - 1
  let modifier: Modifier | undefined
  for (const [i, segment] of segments.entries()) {
    const colon = segment.indexOf(':')
    if (colon === -1) continue
    if (i === last) {
      const name = segment.slice(colon + 1)
      if (!MODIFIER_NAMES.has(name))
        throw new FilterSyntaxError(`unknown modifier ":${name}"`, token.position)
      modifier = name as Modifier
    } else if (!(i === 1 && segments[0] === '@collection')) {
      // `:` inside a path is only the alias of `@collection.name:alias.field`
      throw new FilterSyntaxError(`invalid identifier "${text}"`, token.position)
    }
  }
  const path = modifier === undefined ? text : text.slice(0, text.lastIndexOf(':'))
  return IdentifierNode.create(path, token.position, modifier)
}
