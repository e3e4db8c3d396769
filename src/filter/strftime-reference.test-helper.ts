/**
 * SQLite's strftime() in JavaScript, written from SQLite's documentation and src/date.c (3.51+, the
 * version better-sqlite3 bundles; 3.46 changed computeJD/computeYMD for years before 1 AD):
 * the reference the PostgreSQL translation and the rules' reference evaluator are checked against.
 * It knows every modifier Galley accepts; anything else is "not supported" (undefined).
 *
 * `value` is what SQLite's function receives: a TEXT (string), a number (INTEGER/REAL) or NULL.
 */

type SqlValue = string | number | null

interface DateTime {
  iJD: bigint
  Y: number
  M: number
  D: number
  h: number
  m: number
  /** Minutes east of UTC, not yet applied (0: none). */
  tz: number
  s: number
  validJD: boolean
  rawS: boolean
  validYMD: boolean
  validHMS: boolean
  isError: boolean
  useSubsec: boolean
}

const MAX_JD = 464269060799999n
const UNIX_EPOCH_JD = 210866760000000n
const DAY = 86400000n

const trunc = Math.trunc
/** C's integer division. */
const idiv = (a: number, b: number) => trunc(a / b)
/** (sqlite3_int64)(double). */
const toInt = (x: number) => BigInt(trunc(x))
/** int64 division and remainder (truncating). */
const bdiv = (a: bigint, b: bigint) => a / b

function blank(): DateTime {
  return {
    iJD: 0n,
    Y: 0,
    M: 0,
    D: 0,
    h: 0,
    m: 0,
    tz: 0,
    s: 0,
    validJD: false,
    rawS: false,
    validYMD: false,
    validHMS: false,
    isError: false,
    useSubsec: false,
  }
}

function error(p: DateTime): void {
  Object.assign(p, blank(), { isError: true })
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r'
const isDigit = (c: string) => c >= '0' && c <= '9'

/** getDigits(): `n` digits in [min, max], or undefined. */
function digits(z: string, at: number, n: number, min: number, max: number): number | undefined {
  let v = 0
  for (let i = 0; i < n; i++) {
    const c = z.charAt(at + i)
    if (!isDigit(c)) return undefined
    v = v * 10 + Number(c)
  }
  return v < min || v > max ? undefined : v
}

/** parseTimezone(): true on an error. */
function parseTimezone(z: string, at: number, p: DateTime): boolean {
  let i = at
  while (isSpace(z.charAt(i))) i++
  p.tz = 0
  const c = z.charAt(i)
  let sgn = 0
  if (c === '-') sgn = -1
  else if (c === '+') sgn = 1
  else if (c === 'Z' || c === 'z') {
    i++
    while (isSpace(z.charAt(i))) i++
    return i < z.length
  } else return c !== ''
  i++
  const hr = digits(z, i, 2, 0, 14)
  if (hr === undefined || z.charAt(i + 2) !== ':') return true
  const mn = digits(z, i + 3, 2, 0, 59)
  if (mn === undefined) return true
  i += 5
  p.tz = sgn * (mn + hr * 60)
  while (isSpace(z.charAt(i))) i++
  return i < z.length
}

/** parseHhMmSs(): true on an error. */
function parseHhMmSs(z: string, at: number, p: DateTime): boolean {
  let i = at
  const h = digits(z, i, 2, 0, 24)
  if (h === undefined || z.charAt(i + 2) !== ':') return true
  const m = digits(z, i + 3, 2, 0, 59)
  if (m === undefined) return true
  i += 5
  let s = 0
  let ms = 0
  if (z.charAt(i) === ':') {
    i++
    const sec = digits(z, i, 2, 0, 59)
    if (sec === undefined) return true
    s = sec
    i += 2
    if (z.charAt(i) === '.' && isDigit(z.charAt(i + 1))) {
      let scale = 1
      i++
      while (isDigit(z.charAt(i))) {
        ms = ms * 10 + Number(z.charAt(i))
        scale *= 10
        i++
      }
      ms /= scale
      // truncated, "to avoid problems with sub-milliseconds rounding"
      if (ms > 0.999) ms = 0.999
    }
  }
  p.validJD = false
  p.rawS = false
  p.validHMS = true
  p.h = h
  p.m = m
  p.s = s + ms
  return parseTimezone(z, i, p)
}

/** computeJD(). */
function computeJD(p: DateTime): void {
  if (p.validJD) return
  let Y = p.validYMD ? p.Y : 2000
  let M = p.validYMD ? p.M : 1
  const D = p.validYMD ? p.D : 1
  if (Y < -4713 || Y > 9999 || p.rawS) {
    error(p)
    return
  }
  if (M <= 2) {
    Y--
    M += 12
  }
  const A = idiv(Y + 4800, 100)
  const B = 38 - A + idiv(A, 4)
  const X1 = idiv(36525 * (Y + 4716), 100)
  const X2 = idiv(306001 * (M + 1), 10000)
  p.iJD = toInt((X1 + X2 + D + B - 1524.5) * 86400000)
  p.validJD = true
  if (p.validHMS) {
    p.iJD += BigInt(p.h * 3600000 + p.m * 60000) + toInt(p.s * 1000 + 0.5)
    if (p.tz !== 0) {
      p.iJD -= BigInt(p.tz * 60000)
      p.validYMD = false
      p.validHMS = false
      p.tz = 0
    }
  }
}

/** parseYyyyMmDd(): true on an error. */
function parseYyyyMmDd(z: string, p: DateTime): boolean {
  let i = 0
  const neg = z.charAt(0) === '-'
  if (neg) i++
  const Y = digits(z, i, 4, 0, 9999)
  if (Y === undefined || z.charAt(i + 4) !== '-') return true
  const M = digits(z, i + 5, 2, 1, 12)
  if (M === undefined || z.charAt(i + 7) !== '-') return true
  const D = digits(z, i + 8, 2, 1, 31)
  if (D === undefined) return true
  i += 10
  while (isSpace(z.charAt(i)) || z.charAt(i) === 'T') i++
  if (!parseHhMmSs(z, i, p)) {
    // the time
  } else if (i >= z.length) {
    p.validHMS = false
  } else {
    return true
  }
  p.validJD = false
  p.validYMD = true
  p.Y = neg ? -Y : Y
  p.M = M
  p.D = D
  if (p.tz !== 0) computeJD(p)
  return false
}

/** sqlite3AtoF() > 0: the whole text (spaces around allowed) is a decimal number. */
function atof(z: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[ \t\n\v\f\r]*$/.exec(z)
  return m ? Number(m[1]) : undefined
}

function setRawDateNumber(p: DateTime, r: number): void {
  p.s = r
  p.rawS = true
  if (r >= 0 && r < 5373484.5) {
    p.iJD = toInt(r * 86400000 + 0.5)
    p.validJD = true
  }
}

function setNow(p: DateTime, now: Date): void {
  p.iJD = BigInt(now.getTime()) + UNIX_EPOCH_JD
  p.validJD = true
}

/** parseDateOrTime(): true on an error. */
function parseDateOrTime(z: string, p: DateTime, now: Date): boolean {
  if (!parseYyyyMmDd(z, p)) return false
  if (!parseHhMmSs(z, 0, p)) return false
  const lower = z.toLowerCase()
  if (lower === 'now' && /^[a-z]+$/i.test(z)) {
    setNow(p, now)
    return false
  }
  const r = atof(z)
  if (r !== undefined) {
    setRawDateNumber(p, r)
    return false
  }
  if ((lower === 'subsec' || lower === 'subsecond') && /^[a-z]+$/i.test(z)) {
    p.useSubsec = true
    setNow(p, now)
    return false
  }
  return true
}

const validJulianDay = (j: bigint) => j >= 0n && j <= MAX_JD

function computeYMD(p: DateTime): void {
  if (p.validYMD) return
  if (!p.validJD) {
    p.Y = 2000
    p.M = 1
    p.D = 1
  } else if (!validJulianDay(p.iJD)) {
    error(p)
    return
  } else {
    const Z = Number(bdiv(p.iJD + 43200000n, DAY))
    const alpha = trunc((Z + 32044.75) / 36524.25) - 52
    const A = Z + 1 + alpha - idiv(alpha + 100, 4) + 25
    const B = A + 1524
    const C = trunc((B - 122.1) / 365.25)
    const D = idiv(36525 * (C & 32767), 100)
    const E = trunc((B - D) / 30.6001)
    const X1 = trunc(30.6001 * E)
    p.D = B - D - X1
    p.M = E < 14 ? E - 1 : E - 13
    p.Y = p.M > 2 ? C - 4716 : C - 4715
  }
  p.validYMD = true
}

function computeHMS(p: DateTime): void {
  if (p.validHMS) return
  computeJD(p)
  const dayMs = Number((p.iJD + 43200000n) % DAY)
  p.s = (dayMs % 60000) / 1000
  const dayMin = idiv(dayMs, 60000)
  p.m = dayMin % 60
  p.h = idiv(dayMin, 60)
  p.rawS = false
  p.validHMS = true
}

function computeYMDHMS(p: DateTime): void {
  computeYMD(p)
  computeHMS(p)
}

function clearYMDHMSTZ(p: DateTime): void {
  p.validYMD = false
  p.validHMS = false
  p.tz = 0
}

const UNITS: readonly { name: string; limit: number; xform: number }[] = [
  { name: 'second', limit: Math.fround(4.6427e14), xform: 1 },
  { name: 'minute', limit: Math.fround(7.7379e12), xform: 60 },
  { name: 'hour', limit: Math.fround(1.2897e11), xform: 3600 },
  { name: 'day', limit: Math.fround(5373485.0), xform: 86400 },
  { name: 'month', limit: Math.fround(176546.0), xform: 2592000 },
  { name: 'year', limit: Math.fround(14713.0), xform: 31536000 },
]

/** parseModifier() for the modifiers Galley supports: 'ok', 'fail' (NULL) or 'unsupported'. */
function parseModifier(z: string, p: DateTime, idx: number): 'ok' | 'fail' | 'unsupported' {
  const lower = z.toLowerCase()
  if (lower === 'auto') {
    if (idx > 1) return 'fail'
    if (!p.rawS || p.validJD) p.rawS = false
    else if (p.s >= -210866760000 && p.s <= 253402300799) {
      const r = p.s * 1000 + 210866760000000
      clearYMDHMSTZ(p)
      p.iJD = toInt(r + 0.5)
      p.validJD = true
      p.rawS = false
    }
    return 'ok'
  }
  if (lower === 'julianday') {
    if (idx > 1) return 'fail'
    if (p.validJD && p.rawS) {
      p.rawS = false
      return 'ok'
    }
    return 'fail'
  }
  if (lower === 'unixepoch') {
    if (!p.rawS) return 'fail'
    if (idx > 1) return 'fail'
    const r = p.s * 1000 + 210866760000000
    if (r >= 0 && r < 464269060800000) {
      clearYMDHMSTZ(p)
      p.iJD = toInt(r + 0.5)
      p.validJD = true
      p.rawS = false
      return 'ok'
    }
    return 'fail'
  }
  if (lower === 'subsec' || lower === 'subsecond') {
    p.useSubsec = true
    return 'ok'
  }
  const weekday = /^weekday (\d)$/i.exec(z)
  if (weekday) {
    const n = Number(weekday[1])
    if (n > 6) return 'fail'
    computeYMDHMS(p)
    p.tz = 0
    p.validJD = false
    computeJD(p)
    let Z = Number(bdiv(p.iJD + 129600000n, DAY) % 7n)
    if (Z > n) Z -= 7
    p.iJD += BigInt(n - Z) * DAY
    clearYMDHMSTZ(p)
    return 'ok'
  }
  const start = /^start of (day|month|year)$/i.exec(z)
  if (start) {
    if (!p.validJD && !p.validYMD && !p.validHMS) return 'fail'
    computeYMD(p)
    p.validHMS = true
    p.h = 0
    p.m = 0
    p.s = 0
    p.rawS = false
    p.tz = 0
    p.validJD = false
    const unit = start[1]!.toLowerCase()
    if (unit === 'month') p.D = 1
    if (unit === 'year') {
      p.M = 1
      p.D = 1
    }
    return 'ok'
  }
  const shift = /^([+-]?\d+(?:\.\d+)?) +([a-z]+)$/i.exec(z)
  if (!shift) return 'unsupported'
  let r = Number(shift[1])
  let unit = shift[2]!.toLowerCase()
  if (unit.endsWith('s')) unit = unit.slice(0, -1)
  const u = UNITS.find((x) => x.name === unit)
  if (u === undefined) return 'unsupported'
  computeJD(p)
  const rounder = r < 0 ? -0.5 : 0.5
  if (!(r > -u.limit && r < u.limit)) {
    clearYMDHMSTZ(p)
    return 'fail'
  }
  if (unit === 'month') {
    computeYMDHMS(p)
    p.M += trunc(r)
    const x = p.M > 0 ? idiv(p.M - 1, 12) : idiv(p.M - 12, 12)
    p.Y += x
    p.M -= x * 12
    p.validJD = false
    r -= trunc(r)
  } else if (unit === 'year') {
    computeYMDHMS(p)
    p.Y += trunc(r)
    p.validJD = false
    r -= trunc(r)
  }
  computeJD(p)
  p.iJD += toInt(r * 1000 * u.xform + rounder)
  clearYMDHMSTZ(p)
  return 'ok'
}

/** isDate(): the DateTime, undefined for NULL, 'unsupported' for a modifier Galley refuses. */
function isDate(
  value: SqlValue,
  modifiers: readonly string[],
  now: Date,
): DateTime | undefined | 'unsupported' {
  const p = blank()
  if (typeof value === 'number') setRawDateNumber(p, value)
  else if (value === null || parseDateOrTime(value, p, now)) return undefined
  for (const [i, m] of modifiers.entries()) {
    const rc = parseModifier(m, p, i + 1)
    if (rc === 'unsupported') return rc
    if (rc === 'fail') return undefined
  }
  computeJD(p)
  if (p.isError || !validJulianDay(p.iJD)) return undefined
  if (modifiers.length === 0 && p.validYMD && p.D > 28) p.validYMD = false
  return p
}

const pad = (n: number | bigint, width: number, fill = '0') => {
  const text = String(n < 0 ? -n : n)
  const sign = n < 0 ? '-' : ''
  return sign + text.padStart(width - sign.length, fill)
}

/** printf("%06.3f", s): the double's exact value rounded to thousandths, ties away from zero. */
function fixed3(s: number): string {
  const whole = trunc(s)
  const fraction = s - whole
  // the exact value of the fraction, a double below 1, as a multiple of 2^-1074
  const scaled = exactScaled(fraction)
  const ms = (scaled * 1000n + (1n << 1073n)) >> 1074n
  const total = BigInt(whole) * 1000n + ms
  return `${pad(total / 1000n, 2)}.${pad(total % 1000n, 3)}`
}

/** A non-negative double below 1 times 2^1074, exactly. */
function exactScaled(x: number): bigint {
  if (x === 0) return 0n
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const bits = view.getBigUint64(0)
  const exponent = Number((bits >> 52n) & 0x7ffn)
  const mantissa = bits & ((1n << 52n) - 1n)
  if (exponent === 0) return mantissa
  return (mantissa | (1n << 52n)) << BigInt(exponent - 1)
}

/**
 * strftime(format, value, ...modifiers) as SQLite computes it: a text or null. Throws for a
 * specifier or modifier Galley does not support.
 */
export function referenceStrftime(
  format: string,
  value: SqlValue,
  modifiers: readonly string[],
  now: Date,
): string | null {
  const x = isDate(value, modifiers, now)
  if (x === 'unsupported') throw new Error(`unsupported modifier in ${JSON.stringify(modifiers)}`)
  if (x === undefined) return null
  computeJD(x)
  computeYMDHMS(x)
  let out = ''
  for (let i = 0; i < format.length; i++) {
    const c = format.charAt(i)
    if (c !== '%') {
      out += c
      continue
    }
    const f = format.charAt(++i)
    switch (f) {
      case 'd':
      case 'e':
        out += pad(x.D, 2, f === 'd' ? '0' : ' ')
        break
      case 'f':
        out += fixed3(x.s > 59.999 ? 59.999 : x.s)
        break
      case 'F':
        out += `${pad(x.Y, 4)}-${pad(x.M, 2)}-${pad(x.D, 2)}`
        break
      case 'H':
      case 'k':
        out += pad(x.h, 2, f === 'H' ? '0' : ' ')
        break
      case 'I':
      case 'l': {
        let h = x.h
        if (h > 12) h -= 12
        if (h === 0) h = 12
        out += pad(h, 2, f === 'I' ? '0' : ' ')
        break
      }
      case 'W':
      case 'j': {
        const y: DateTime = { ...x, validJD: false, M: 1, D: 1 }
        computeJD(y)
        const nDay = Number(bdiv(x.iJD - y.iJD + 43200000n, DAY))
        if (f === 'W') {
          const wd = Number(bdiv(x.iJD + 43200000n, DAY) % 7n)
          out += pad(idiv(nDay + 7 - wd, 7), 2)
        } else {
          out += pad(nDay + 1, 3)
        }
        break
      }
      case 'm':
        out += pad(x.M, 2)
        break
      case 'M':
        out += pad(x.m, 2)
        break
      case 'p':
        out += x.h >= 12 ? 'PM' : 'AM'
        break
      case 'P':
        out += x.h >= 12 ? 'pm' : 'am'
        break
      case 'R':
        out += `${pad(x.h, 2)}:${pad(x.m, 2)}`
        break
      case 's':
        if (x.useSubsec) {
          const ms = x.iJD - UNIX_EPOCH_JD
          const abs = ms < 0n ? -ms : ms
          out += `${ms < 0n ? '-' : ''}${abs / 1000n}.${pad(abs % 1000n, 3)}`
        } else {
          out += String(x.iJD / 1000n - UNIX_EPOCH_JD / 1000n)
        }
        break
      case 'S':
        out += pad(trunc(x.s), 2)
        break
      case 'T':
        out += `${pad(x.h, 2)}:${pad(x.m, 2)}:${pad(trunc(x.s), 2)}`
        break
      case 'u':
      case 'w': {
        const wd = Number(bdiv(x.iJD + 129600000n, DAY) % 7n)
        out += String(wd === 0 && f === 'u' ? 7 : wd)
        break
      }
      case 'Y':
        out += pad(x.Y, 4)
        break
      case '%':
        out += '%'
        break
      default:
        throw new Error(`unsupported specifier %${f}`)
    }
  }
  return out
}
