import type { Expression } from 'kysely'
import type { FunctionCallNode, OperandNode } from './ast.js'
import { FilterResolveError } from './errors.js'
import { MAX_STRFTIME_SPECIFIERS, MAX_STRFTIME_TIME_TEXT } from './limits.js'
import type { OperandKind } from './resolve.js'

/*
 * `strftime(format[, timeValue[, modifier…]])` (PocketBase 0.36+, pocketbase-api.md §4.6): SQLite's
 * strftime() with a NULL result read as "". SQLite runs its own function; PostgreSQL runs a
 * translation of SQLite's date arithmetic (strftime-postgres.ts). Both accept only what this module
 * validates, so an unsupported specifier or modifier is a 400 on either database, never a silent NULL
 * on one of them.
 */

/** The format specifiers both databases implement (SQLite's, without `%J`, `%G`, `%g`, `%U`, `%V`). */
export const STRFTIME_SPECIFIERS = 'defFHIjklmMpPRsSTuwWY%'

export type StrftimeSpecifier =
  | 'd'
  | 'e'
  | 'f'
  | 'F'
  | 'H'
  | 'I'
  | 'j'
  | 'k'
  | 'l'
  | 'm'
  | 'M'
  | 'p'
  | 'P'
  | 'R'
  | 's'
  | 'S'
  | 'T'
  | 'u'
  | 'w'
  | 'W'
  | 'Y'
  | '%'

/** A format: literal text and specifiers, in order. */
export type StrftimeFormatPart = { readonly text: string } | { readonly specifier: StrftimeSpecifier }

export type StrftimeUnit = 'day' | 'hour' | 'minute' | 'second' | 'month' | 'year'

/** A modifier, as SQLite applies it (https://sqlite.org/lang_datefunc.html#modifiers). */
export type StrftimeModifier =
  | { readonly kind: 'shift'; readonly unit: StrftimeUnit; readonly amount: number }
  | { readonly kind: 'start'; readonly unit: 'day' | 'month' | 'year' }
  | { readonly kind: 'weekday'; readonly day: number }
  | { readonly kind: 'unixepoch' | 'julianday' | 'auto' | 'subsec' }

/** The time value of a `strftime()` call: a literal (booleans as 1/0) or an SQL operand. */
export type StrftimeTime =
  | { readonly type: 'value'; readonly value: string | number }
  | { readonly type: 'sql'; readonly expression: Expression<unknown>; readonly kind: OperandKind }

/** A literal time value: a text longer than MAX_STRFTIME_TIME_TEXT is none (NULL). */
export function timeLiteral(value: string | number): string | number | null {
  return typeof value === 'string' && value.length > MAX_STRFTIME_TIME_TEXT ? null : value
}

export interface StrftimeCall {
  /** The format text as written (SQLite's argument). */
  readonly format: string
  readonly parts: readonly StrftimeFormatPart[]
  /** Each modifier with its canonical text (SQLite's argument). */
  readonly modifiers: readonly { readonly modifier: StrftimeModifier; readonly text: string }[]
  /** The position of the time value, or of the call when it has none (the request time). */
  readonly timePosition: number
}

/**
 * SQLite's limit of each unit (`aXformType[].rLimit`, a C float): an amount must lie strictly inside.
 * `Math.fround` gives the same float, so the comparison is SQLite's.
 */
const UNIT_LIMITS: Readonly<Record<StrftimeUnit, number>> = {
  second: Math.fround(4.6427e14),
  minute: Math.fround(7.7379e12),
  hour: Math.fround(1.2897e11),
  day: Math.fround(5373485.0),
  month: Math.fround(176546.0),
  year: Math.fround(14713.0),
}

/**
 * `±N[.N] units`: at most 15 significant digits and 6 decimals, so that SQLite's and JavaScript's
 * parses of the number are the same double.
 */
const SHIFT = /^([+-]?)(\d+)(?:\.(\d{1,6}))?(?: +)(second|minute|hour|day|month|year)s?$/i
const START = /^start of (day|month|year)$/i
const WEEKDAY = /^weekday ([0-6])$/i
const MAX_SIGNIFICANT_DIGITS = 15
/** Modifiers that say how a number is read; SQLite accepts them only right after the time value. */
const NUMBER_MODES: ReadonlySet<string> = new Set(['unixepoch', 'julianday', 'auto'])

/**
 * Validates a `strftime(...)` call: a text format of supported specifiers, a time value that is an
 * identifier, text or number (PocketBase's rule), and text modifiers of the supported forms.
 */
export function parseStrftime(node: FunctionCallNode): StrftimeCall {
  const [format, time, ...modifiers] = node.args
  if (format === undefined) {
    throw new FilterResolveError('strftime() expects a format text as its first argument', node.position)
  }
  const text = literalText(format)
  if (text === undefined) {
    throw new FilterResolveError('strftime() expects a format text as its first argument', format.position)
  }
  if (time !== undefined && !isTimeValue(time)) {
    throw new FilterResolveError(
      'strftime() expects a field, text or number as its time value',
      time.position,
    )
  }
  return {
    format: text,
    parts: parseFormat(text, format.position),
    modifiers: modifiers.map((m, i) => parseModifier(m, i)),
    timePosition: time?.position ?? node.position,
  }
}

function literalText(node: OperandNode): string | undefined {
  return node.kind === 'Literal' && typeof node.value === 'string' ? node.value : undefined
}

/** PocketBase accepts identifiers (`true`, `null`, macros included), texts and numbers; no calls. */
function isTimeValue(node: OperandNode): boolean {
  return node.kind === 'Identifier' || node.kind === 'Macro' || node.kind === 'Literal'
}

function parseFormat(format: string, position: number): StrftimeFormatPart[] {
  const parts: StrftimeFormatPart[] = []
  let text = ''
  let specifiers = 0
  for (let i = 0; i < format.length; i++) {
    const c = format.charAt(i)
    if (c !== '%') {
      text += c
      continue
    }
    // the offset in the source: exact unless the text holds an escaped quote before it
    const at = position + 1 + i
    const s = format.charAt(i + 1)
    if (s === '') throw new FilterResolveError('strftime() format ends with a lone "%"', at)
    if (!STRFTIME_SPECIFIERS.includes(s)) {
      throw new FilterResolveError(`unsupported strftime() format specifier "%${s}"`, at)
    }
    i++
    if (s === '%') {
      text += '%'
      continue
    }
    if (++specifiers > MAX_STRFTIME_SPECIFIERS) {
      throw new FilterResolveError(
        `too many strftime() format specifiers (max ${MAX_STRFTIME_SPECIFIERS})`,
        at,
      )
    }
    if (text !== '') parts.push({ text })
    text = ''
    parts.push({ specifier: s as StrftimeSpecifier })
  }
  if (text !== '') parts.push({ text })
  return parts
}

function parseModifier(node: OperandNode, index: number): { modifier: StrftimeModifier; text: string } {
  const text = literalText(node)
  if (text === undefined) {
    throw new FilterResolveError('strftime() modifiers must be texts', node.position)
  }
  const unsupported = () => new FilterResolveError(`unsupported strftime() modifier "${text}"`, node.position)
  const lower = text.toLowerCase()
  if (NUMBER_MODES.has(lower)) {
    if (index !== 0) {
      throw new FilterResolveError(
        `strftime() modifier "${text}" must come right after the time value`,
        node.position,
      )
    }
    return { modifier: { kind: lower as 'unixepoch' | 'julianday' | 'auto' }, text: lower }
  }
  if (lower === 'subsec' || lower === 'subsecond') return { modifier: { kind: 'subsec' }, text: 'subsec' }
  const start = START.exec(text)
  if (start) {
    const unit = start[1]!.toLowerCase() as 'day' | 'month' | 'year'
    return { modifier: { kind: 'start', unit }, text: `start of ${unit}` }
  }
  const weekday = WEEKDAY.exec(text)
  if (weekday) {
    const day = Number(weekday[1])
    return { modifier: { kind: 'weekday', day }, text: `weekday ${day}` }
  }
  const shift = SHIFT.exec(text)
  if (!shift) throw unsupported()
  const [, sign, whole, fraction = '', unitText] = shift
  const digits = `${whole}${fraction}`.replace(/^0+/, '')
  if (digits.length > MAX_SIGNIFICANT_DIGITS) throw unsupported()
  const unit = unitText!.toLowerCase() as StrftimeUnit
  const amount = Number(`${sign}${whole}${fraction === '' ? '' : `.${fraction}`}`)
  if (!(amount > -UNIT_LIMITS[unit] && amount < UNIT_LIMITS[unit])) {
    throw new FilterResolveError(`strftime() modifier "${text}" is out of range`, node.position)
  }
  const canonical = `${sign}${whole}${fraction === '' ? '' : `.${fraction}`} ${unit}s`
  return { modifier: { kind: 'shift', unit, amount }, text: canonical }
}
