import { COMPARE_OPS, type CompareOp } from './ast.js'
import { FilterSyntaxError } from './errors.js'

interface TokenBase {
  /** The source text of the token. */
  readonly text: string
  /** Offset of the first character. */
  readonly position: number
  /** Offset after the last character. */
  readonly end: number
}

export type Token =
  | (TokenBase & { readonly type: 'identifier' })
  | (TokenBase & { readonly type: 'string'; readonly value: string })
  | (TokenBase & { readonly type: 'number'; readonly value: number })
  | (TokenBase & { readonly type: 'placeholder'; readonly name: string })
  | (TokenBase & { readonly type: 'op'; readonly op: CompareOp })
  | (TokenBase & { readonly type: '&&' | '||' | '(' | ')' | ',' | 'eof' })

const OPS: ReadonlySet<string> = new Set(COMPARE_OPS)
const OP_CHARS = '=!<>~?'
const WHITESPACE = ' \t\n\r'
const IDENTIFIER = /^[@#]?[A-Za-z_]\w*(:\w+)?(\.\w+(:\w+)?)*$/
const NUMBER = /^-?\d+(\.\d+)?$/

/** Whether `text` is a well-formed identifier (paths, modifiers, `@` and `#` prefixes). */
export const isIdentifier = (text: string): boolean => IDENTIFIER.test(text)

const isDigit = (c: string): boolean => c >= '0' && c <= '9'
const isLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
const isIdentifierStart = (c: string): boolean => isLetter(c) || c === '_' || c === '@' || c === '#'
const isIdentifierPart = (c: string): boolean => isIdentifierStart(c) || isDigit(c) || c === '.' || c === ':'

/**
 * Splits a filter into tokens (PocketBase `fexpr` grammar), skipping whitespace and `//` comments.
 * The last token is always `eof`.
 *
 * @example
 * lex('a >= 5') // identifier "a", op ">=", number 5, eof
 */
export function lex(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const run = (from: number, accept: (c: string) => boolean): number => {
    let j = from
    while (j < source.length && accept(source.charAt(j))) j++
    return j
  }
  while (i < source.length) {
    const c = source.charAt(i)
    const start = i
    if (WHITESPACE.includes(c)) {
      i++
    } else if (c === '/' && source.charAt(i + 1) === '/') {
      const eol = source.indexOf('\n', i)
      i = eol === -1 ? source.length : eol
    } else if (isIdentifierStart(c)) {
      i = run(i, isIdentifierPart)
      const text = source.slice(start, i)
      if (!isIdentifier(text)) throw new FilterSyntaxError(`invalid identifier "${text}"`, start)
      tokens.push({ type: 'identifier', text, position: start, end: i })
    } else if (isDigit(c) || (c === '-' && isDigit(source.charAt(i + 1)))) {
      i = run(i + 1, (ch) => isDigit(ch) || ch === '.' || isIdentifierStart(ch))
      const text = source.slice(start, i)
      const value = Number(text)
      if (!NUMBER.test(text) || !Number.isFinite(value)) {
        throw new FilterSyntaxError(`invalid number "${text}"`, start)
      }
      tokens.push({ type: 'number', text, value, position: start, end: i })
    } else if (c === '"' || c === "'") {
      const [value, end] = scanString(source, i)
      i = end
      tokens.push({ type: 'string', text: source.slice(start, i), value, position: start, end: i })
    } else if (c === '{' && source.charAt(i + 1) === ':') {
      const close = source.indexOf('}', i)
      const name = close === -1 ? '' : source.slice(i + 2, close)
      if (!/^\w+$/.test(name)) throw new FilterSyntaxError('invalid placeholder', start)
      i = close + 1
      tokens.push({ type: 'placeholder', text: source.slice(start, i), name, position: start, end: i })
    } else if (OP_CHARS.includes(c)) {
      i = run(i, (ch) => OP_CHARS.includes(ch))
      const text = source.slice(start, i)
      if (!OPS.has(text)) throw new FilterSyntaxError(`invalid operator "${text}"`, start)
      tokens.push({ type: 'op', text, op: text as CompareOp, position: start, end: i })
    } else if (c === '&' || c === '|') {
      i = run(i, (ch) => ch === '&' || ch === '|')
      const text = source.slice(start, i)
      if (text !== '&&' && text !== '||') throw new FilterSyntaxError(`invalid operator "${text}"`, start)
      tokens.push({ type: text, text, position: start, end: i })
    } else if (c === '(' || c === ')' || c === ',') {
      i++
      tokens.push({ type: c, text: c, position: start, end: i })
    } else {
      throw new FilterSyntaxError(`unexpected character ${JSON.stringify(c)}`, start)
    }
  }
  tokens.push({ type: 'eof', text: '', position: source.length, end: source.length })
  return tokens
}

/**
 * The only escape is a backslash before the string's own quote; any other backslash is kept as it
 * is, as in PocketBase, so `'C:\dir'` means what it looks like.
 */
function scanString(source: string, start: number): [value: string, end: number] {
  const quote = source.charAt(start)
  let value = ''
  let i = start + 1
  while (i < source.length) {
    const c = source.charAt(i)
    if (c === quote) return [value, i + 1]
    // PostgreSQL text cannot hold NUL: refusing it here gives both databases the same answer
    if (c === '\0') throw new FilterSyntaxError('invalid NUL character in string', i)
    if (c === '\\' && source.charAt(i + 1) === quote) {
      value += quote
      i += 2
    } else {
      value += c
      i++
    }
  }
  throw new FilterSyntaxError('unterminated string', start)
}
