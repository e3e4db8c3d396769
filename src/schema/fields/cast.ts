/**
 * The value casts PocketBase's field types apply to submitted values (Go's spf13/cast and
 * tools/list), reproduced for the JSON values a request body can hold. None of them throws.
 */

/** Go `strconv.FormatFloat(n, 'f', -1, 64)`: the shortest exact digits, never an exponent. */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  if (Object.is(n, -0)) return '-0'
  const s = String(n)
  const e = s.indexOf('e')
  if (e < 0) return s
  // String() switches to an exponent below 1e-6 and from 1e21; expand it.
  const sign = s.startsWith('-') ? '-' : ''
  const mantissa = s.slice(sign.length, e)
  const exp = Number(s.slice(e + 1))
  const dot = mantissa.indexOf('.')
  const digits = mantissa.replace('.', '')
  const point = (dot < 0 ? mantissa.length : dot) + exp
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}

/** Go `fmt.Sprintf("%f", n)`: six decimals, no exponent. */
export function formatFloatFixed(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf'
  const sign = n < 0 || Object.is(n, -0) ? '-' : ''
  const abs = Math.abs(n)
  if (abs < 1e21) return sign + abs.toFixed(6)
  // toFixed() gives an exponent from 1e21; such floats are integers, so BigInt is exact.
  return `${sign}${BigInt(abs).toString()}.000000`
}

/** spf13/cast `ToString`: strings as they are, numbers and booleans formatted, anything else ''. */
export function castToString(raw: unknown): string {
  switch (typeof raw) {
    case 'string':
      return raw
    case 'number':
      return formatFloat(raw)
    case 'boolean':
      return raw ? 'true' : 'false'
    case 'bigint':
      return raw.toString()
    default:
      return ''
  }
}

const DECIMAL_FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/
const SPECIAL_FLOAT = /^(?:([+-]?)(inf|infinity)|nan)$/i

/**
 * Go `strconv.ParseFloat(s, 64)`: decimal and hexadecimal (`0x1p-2`) floats, `Inf`/`Infinity` with an
 * optional sign and `NaN`, any case; no surrounding spaces, no underscores. Undefined when Go fails,
 * including overflow to infinity (ErrRange), which cast turns into 0.
 */
export function parseGoFloat(s: string): number | undefined {
  const special = SPECIAL_FLOAT.exec(s)
  if (special) {
    if (special[2] === undefined) return NaN
    return special[1] === '-' ? -Infinity : Infinity
  }
  let n: number
  if (DECIMAL_FLOAT.test(s)) {
    n = Number(s)
  } else {
    const hex = HEX_FLOAT.exec(s)
    if (!hex) return undefined
    const int = hex[2] ?? ''
    const frac = hex[3] ?? ''
    if (int === '' && frac === '') return undefined
    const mantissa = Number.parseInt(`${int}${frac}` || '0', 16)
    n = mantissa * 2 ** (Number(hex[4]) - 4 * frac.length)
    if (hex[1] === '-') n = -n
  }
  return Number.isFinite(n) ? n : undefined
}

/** spf13/cast `ToFloat64`: numbers, `strconv.ParseFloat` strings, booleans as 1/0; anything else 0. */
export function castToFloat(raw: unknown): number {
  switch (typeof raw) {
    case 'number':
      return raw
    case 'boolean':
      return raw ? 1 : 0
    case 'string':
      return parseGoFloat(raw) ?? 0
    default:
      return 0
  }
}

const TRUE_STRINGS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])

/** spf13/cast `ToBool`: booleans, non-zero numbers, `strconv.ParseBool` strings; anything else false. */
export function castToBool(raw: unknown): boolean {
  switch (typeof raw) {
    case 'boolean':
      return raw
    case 'number':
      return raw !== 0
    case 'string':
      return TRUE_STRINGS.has(raw)
    default:
      return false
  }
}

/** Go `json.Unmarshal(s, &[]string)`: a JSON array whose items are strings (null items become ''). */
function parseStringArray(s: string): string[] | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(s)
  } catch {
    return undefined
  }
  if (parsed === null) return []
  if (!Array.isArray(parsed)) return undefined
  const out: string[] = []
  for (const item of parsed) {
    if (item === null) out.push('')
    else if (typeof item === 'string') out.push(item)
    else return undefined
  }
  return out
}

/** Drops empty strings and repeats, keeping the first occurrence (Go `list.NonzeroUniques`). */
export function nonzeroUniques(values: readonly string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))]
}

/**
 * PocketBase's `list.ToUniqueStringSlice`: a string (a JSON array of strings when it contains `[` and
 * parses), an array (each item cast to string), or a scalar (cast to string); empties and repeats dropped.
 */
export function toUniqueStrings(raw: unknown): string[] {
  let list: string[]
  if (raw === null || raw === undefined) list = []
  else if (typeof raw === 'string') {
    if (raw === '') list = []
    else list = (raw.includes('[') ? parseStringArray(raw) : undefined) ?? [raw]
  } else if (Array.isArray(raw)) list = raw.map(castToString)
  else if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint')
    list = [castToString(raw)]
  else list = []
  return nonzeroUniques(list)
}

/** Removes every value of `remove` from `base` (Go `list.SubtractSlice`). */
export function subtract(base: readonly string[], remove: readonly string[]): string[] {
  const drop = new Set(remove)
  return base.filter((v) => !drop.has(v))
}

/** Number of Unicode code points, as Go's `len([]rune(s))`. */
export function runeCount(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

/** True for a plain JSON object (not an array, not null). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
