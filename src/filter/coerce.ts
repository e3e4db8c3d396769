import type { LiteralValue } from './ast.js'
import type { FilterDialect } from './filter-dialect.js'
import type { OperandKind } from './resolve.js'

/** A literal as it is bound next to an operand of some kind, or `undefined` when they cannot be compared. */
export interface Coerced {
  readonly value: string | number | boolean
  /** Compare the `bool` operand as the number 0/1 (the literal is a number other than 0 and 1). */
  readonly asNumber?: true
}

/** SQLite's NUMERIC affinity accepts a text that is a well-formed number, with surrounding spaces. */
const NUMERIC_TEXT = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

export function numericText(value: string): number | undefined {
  return NUMERIC_TEXT.test(value) ? Number(value) : undefined
}

/** The text form of a literal, as SQLite renders it (`true` is 1). */
export function textOf(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0'
  return String(value)
}

/**
 * Converts a non-null literal for a comparison with an operand of `kind`, following SQLite's type
 * affinity so both databases give SQLite's answers: a number next to a text column compares as
 * text, a numeric text next to a number column as a number. A computed operand (`affinity` false:
 * LOWER(), `:length`, a function) converts nothing: a number literal never meets a computed text,
 * nor a text literal a computed number (numbers sort before texts).
 */
export function coerce(
  value: Exclude<LiteralValue, null>,
  kind: OperandKind,
  dialect: FilterDialect,
  affinity = true,
): Coerced | undefined {
  if (!affinity && kind !== 'json') {
    const isText = typeof value === 'string'
    if (isText !== (kind === 'text' || kind === 'date')) return undefined
  }
  switch (kind) {
    case 'text':
    case 'date':
      return { value: textOf(value) }
    case 'number': {
      if (typeof value === 'boolean') return { value: value ? 1 : 0 }
      const n = typeof value === 'number' ? value : numericText(value)
      return n === undefined ? undefined : { value: n }
    }
    case 'bool': {
      if (typeof value === 'boolean') return { value: dialect.bool(value) }
      const n = typeof value === 'number' ? value : numericText(value)
      if (n === undefined) return undefined
      return n === 0 || n === 1 ? { value: dialect.bool(n === 1) } : { value: n, asNumber: true }
    }
    case 'json':
      return { value: typeof value === 'boolean' ? dialect.bool(value) : value }
  }
}
