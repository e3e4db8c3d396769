import { sql, type Expression, type RawBuilder } from 'kysely'
import { MAX_STRFTIME_TIME_TEXT } from './limits.js'
import {
  timeLiteral,
  type StrftimeCall,
  type StrftimeModifier,
  type StrftimeSpecifier,
  type StrftimeTime,
  type StrftimeUnit,
} from './strftime.js'

/*
 * SQLite's strftime() on PostgreSQL. PostgreSQL's own timestamps cannot follow SQLite: they reject
 * dates such as 2023-02-31 (an error, where SQLite rolls over to March 3), cannot hold SQLite's first
 * 38 days (Julian day 0 is 4714 BC-11-24) and format years before 1 AD differently. So this is a
 * translation of SQLite's src/date.c: the `DateTime` struct is a row of columns, each step of the C
 * code (parse, computeJD, computeYMD, computeHMS, each modifier) is one derived table over the
 * previous one, with the same integer and double arithmetic. Every cast is guarded: no input text
 * can raise an error. Values reach the SQL only as parameters; the regular expressions are fixed.
 *
 * Columns of the state (SQLite 3.51's field names): e = isError, j = iJD (Julian day × 86 400 000),
 * vj = validJD, y/mo/d = Y/M/D, vy = validYMD, h/mi/s = h/m/s, vh = validHMS, tz = tz (minutes not
 * yet applied), r/rs = rawS and the raw number, sub = useSubsec.
 */

type Refs = (name: string) => Expression<unknown>
type Columns = Readonly<Record<string, Expression<unknown>>>

const WS = '[ \\t\\n\\v\\f\\r]'
const TZ = `(?:([+-])([0-9]{2}):([0-9]{2})${WS}*|[Zz]${WS}*)?`
const HMS = `([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.]([0-9]+))?)?${WS}*${TZ}`
/** `[-]YYYY-MM-DD[( |T)+HH:MM[:SS[.F…]]][±HH:MM|Z]` (parseYyyyMmDd); captures 1–11. */
const DATE_PATTERN = `^(-?)([0-9]{4})-([0-9]{2})-([0-9]{2})[ \\t\\n\\v\\f\\r T]*(?:${HMS})?$`
/** `HH:MM[:SS[.F…]][±HH:MM|Z]` (parseHhMmSs); captures 1–7. */
const TIME_PATTERN = `^${HMS}$`
/** A number as sqlite3AtoF() reads it in full: mantissa, exponent sign, exponent digits. */
const NUMBER_PATTERN = `^${WS}*([+-]?(?:[0-9]+[.]?[0-9]*|[.][0-9]+))(?:[eE]([+-]?)([0-9]+))?${WS}*$`

/** 1970-01-01 as a Julian day × 86 400 000. */
const UNIX_EPOCH_JD = 210866760000000
/** 9999-12-31 23:59:59.999, the largest valid iJD. */
const MAX_JD = 464269060799999

const lit = (n: number | string) => sql.raw(String(n))
/** An integer from the filter (a modifier's amount) as a bound BIGINT. */
const param = (n: bigint) => sql`CAST(${n.toString()} AS BIGINT)`
const dbl = (n: number) => sql`${lit(n)}::float8`
/** `(sqlite3_int64)(x)` of a double known to be in range. */
const toInt = (x: Expression<unknown>) => sql`trunc(${x})::bigint`
/** `(sqlite3_int64)(x)` of a double from the input: clamped, so the cast can never overflow. */
const clampInt = (x: Expression<unknown>) =>
  sql`trunc(LEAST(GREATEST(${x}, ${dbl(-9e18)}), ${dbl(9e18)}))::bigint`
const TRUE = sql`TRUE`
const FALSE = sql`FALSE`

const XFORM: Readonly<Record<StrftimeUnit, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86400,
  month: 2592000,
  year: 31536000,
}

/** A step's computation, inline: the columns it defines, from the columns it reads. */
type Op = (c: Refs) => Columns

/** `ops` one after the other in one step: each reads what the previous ones defined. */
function chain(...ops: Op[]): Op {
  return (c) => {
    let out: Columns = {}
    let refs = c
    for (const op of ops) {
      const prev = refs
      out = { ...out, ...op(prev) }
      const current = out
      refs = (name) => current[name] ?? prev(name)
    }
    return out
  }
}

/** `op` where `condition` holds (read before it), the current values elsewhere. */
function onlyIf(condition: (c: Refs) => Expression<unknown>, op: Op): Op {
  return (c) =>
    Object.fromEntries(
      Object.entries(op(c)).map(([name, x]) => [
        name,
        sql`CASE WHEN ${condition(c)} THEN ${x} ELSE ${c(name)} END`,
      ]),
    )
}

/**
 * Derived tables, one per step, each `OFFSET 0` so PostgreSQL keeps it (inlining would copy every
 * expression into each use). Steps are few (PostgreSQL plans a chain of subqueries in time growing
 * with its depth squared times its width): operations are composed inline within a step, and a new
 * step starts only where inlining would copy large expressions.
 */
class Steps {
  #source: Expression<unknown>
  #columns: string[] = []

  constructor(first: Columns) {
    this.#columns = Object.keys(first)
    this.#source = sql`(SELECT ${this.#select(first)})`
  }

  step(op: Op): this {
    const defs = op(this.#ref)
    const names = [...this.#columns, ...Object.keys(defs).filter((n) => !this.#columns.includes(n))]
    const all = Object.fromEntries(names.map((n) => [n, defs[n] ?? sql.id(n)]))
    this.#source = sql`(SELECT ${this.#select(all)} FROM ${this.#source} AS "~s" OFFSET 0)`
    this.#columns = names
    return this
  }

  /** Stops carrying the input's columns. */
  forget(names: readonly string[]): this {
    this.#columns = this.#columns.filter((n) => !names.includes(n))
    return this
  }

  finish(f: (c: Refs) => Expression<unknown>): RawBuilder<unknown> {
    return sql`(SELECT ${f(this.#ref)} FROM ${this.#source} AS "~s")`
  }

  readonly #ref: Refs = (name) => {
    if (!this.#columns.includes(name)) throw new Error(`strftime: no column ${name}`)
    return sql.id(name)
  }

  #select(columns: Columns) {
    return sql.join(Object.entries(columns).map(([name, x]) => sql`${x} AS ${sql.id(name)}`))
  }
}

/** The time value's text and number: SQLite reads a TEXT by parsing it and a number as a day. */
export interface PostgresTimeValue {
  readonly text: Expression<unknown>
  readonly number: Expression<unknown>
}

const NONE = sql`NULL`

/**
 * The text and number SQLite's strftime() would receive: json_extract() gives a JSON string as
 * TEXT, a number as a number and true/false as 1/0; booleans are stored as 1/0.
 */
export function postgresTimeValue(time: StrftimeTime): PostgresTimeValue {
  if (time.type === 'value') {
    return typeof time.value === 'string'
      ? { text: sql.val(timeLiteral(time.value)), number: NONE }
      : { text: NONE, number: sql.val(time.value) }
  }
  const x = time.expression
  switch (time.kind) {
    case 'number':
      return { text: NONE, number: x }
    case 'bool':
      return { text: NONE, number: sql`CAST(CAST(${x} AS INTEGER) AS DOUBLE PRECISION)` }
    case 'json': {
      const type = sql`jsonb_typeof(${x})`
      const inner = sql`(${x} #>> '{}')`
      return {
        text: sql`CASE WHEN ${type} = 'string' THEN ${inner} END`,
        number: sql`CASE ${type} WHEN 'number' THEN ${safeDouble(sql`CAST(${inner} AS NUMERIC)`)} WHEN 'boolean' THEN CASE WHEN ${inner} = 'true' THEN ${dbl(1)} ELSE ${dbl(0)} END END`,
      }
    }
    default:
      return { text: x, number: NONE }
  }
}

/**
 * The PostgreSQL expression of a validated `strftime()` call: a text, NULL where SQLite's is NULL.
 * `now` is the request time (SQLite's 'now').
 */
export function postgresStrftime(
  call: StrftimeCall,
  time: PostgresTimeValue,
  now: Date,
): RawBuilder<unknown> {
  const nowJd = now.getTime() + UNIX_EPOCH_JD
  const steps = new Steps({
    t: sql`(SELECT CASE WHEN length("~t"."t") <= ${lit(MAX_STRFTIME_TIME_TEXT)} THEN "~t"."t" END FROM (SELECT CAST(${time.text} AS TEXT) AS "t") AS "~t")`,
    n: sql`CAST(${time.number} AS DOUBLE PRECISION)`,
  })
    .step((c) => ({
      a: sql`regexp_match(${c('t')}, ${DATE_PATTERN})`,
      b: sql`regexp_match(${c('t')}, ${TIME_PATTERN})`,
      c: sql`regexp_match(${c('t')}, ${NUMBER_PATTERN})`,
      lt: sql`lower(${c('t')} COLLATE "C")`,
    }))
    .step(parseFlags)
    .step((c) => parsed(c, nowJd))
    .forget(['t', 'n', 'a', 'b', 'c', 'lt', 'df', 'tf', 'now', 'rn'])
    // parseYyyyMmDd(): a date with a time zone is converted at once
    .step(onlyIf((c) => sql`${c('tz')} <> 0 AND ${c('vy')}`, computeJD))
  for (const { modifier } of call.modifiers) modifierSteps(steps, modifier)
  // isDate(): the final computeJD() and range check; a bare YYYY-MM-DD past the 28th is normalized
  // (2023-02-31 is March 3); then strftime()'s computeYMD_HMS()
  computeYMDSteps(
    steps.step(computeJD),
    (c) => ({
      e: sql`(${c('e')} OR NOT ${validJd(c('j'))})`,
      ...(call.modifiers.length === 0 ? { vy: sql`(${c('vy')} AND ${c('d')} <= 28)` } : {}),
    }),
    hmsFromJD,
  )
  return steps.finish((c) => {
    const pieces = call.parts.map((p) => ('text' in p ? sql`${p.text}` : specifier(p.specifier, c)))
    const text = pieces.length === 0 ? sql`''` : sql.join(pieces, sql` || `)
    return sql`(CASE WHEN ${c('e')} THEN NULL ELSE CAST(${text} AS TEXT) END COLLATE "C")`
  })
}

/** The numeric text's value, as sqlite3AtoF() gives it (exponent clamped, so no cast can fail). */
function numericValue(c: Refs): Expression<unknown> {
  const m = (i: number) => sql`(${c('c')})[${lit(i)}]`
  const exponent = sql`CASE WHEN ${m(3)} IS NULL THEN 0 WHEN length(${m(3)}) > 4 THEN 1000 ELSE LEAST(CAST(${m(3)} AS INTEGER), 1000) END`
  const signed = sql`(CASE WHEN ${m(2)} = '-' THEN -1 ELSE 1 END * ${exponent})`
  return sql`CASE WHEN ${c('c')} IS NOT NULL THEN CAST(${m(1)} || 'e' || CAST(${signed} AS TEXT) AS NUMERIC) END`
}

const inRange = (x: Expression<unknown>, min: number, max: number) =>
  sql`(CAST(${x} AS INTEGER) BETWEEN ${lit(min)} AND ${lit(max)})`

/** Which form the text has, with SQLite's range checks (getDigits), and its number if it is one. */
function parseFlags(c: Refs): Columns {
  const a = (i: number) => sql`(${c('a')})[${lit(i)}]`
  const b = (i: number) => sql`(${c('b')})[${lit(i)}]`
  const timeOk = (g: (i: number) => Expression<unknown>, first: number) =>
    sql`(${inRange(g(first), 0, 24)} AND ${inRange(g(first + 1), 0, 59)} AND (${g(first + 2)} IS NULL OR ${inRange(g(first + 2), 0, 59)}) AND (${g(first + 4)} IS NULL OR (${inRange(g(first + 5), 0, 14)} AND ${inRange(g(first + 6), 0, 59)})))`
  const date = sql`(${c('a')} IS NOT NULL AND ${inRange(a(3), 1, 12)} AND ${inRange(a(4), 1, 31)} AND (${a(5)} IS NULL OR ${timeOk(a, 5)}))`
  const timeOnly = sql`(${c('b')} IS NOT NULL AND ${timeOk(b, 1)})`
  const nv = numericValue(c)
  return {
    df: sql`COALESCE(${date}, FALSE)`,
    tf: sql`COALESCE(${timeOnly}, FALSE)`,
    now: sql`COALESCE(${c('lt')} IN ('now', 'subsec', 'subsecond'), FALSE)`,
    // a number, or a numeric text (which never looks like a date or a time)
    rn: sql`CASE WHEN ${c('t')} IS NULL THEN ${c('n')} ELSE ${safeDouble(nv)} END`,
  }
}

/**
 * A NUMERIC as the double it rounds to: below half the smallest subnormal it is 0 (and -0 counts as
 * a Julian day, as 0 does), other tiny values ±1e-300 (the date arithmetic only sees their sign),
 * huge ones ±infinity. No value can make the cast fail.
 */
export function safeDouble(x: Expression<unknown>): Expression<unknown> {
  return sql`CASE WHEN abs(${x}) <= 2.4703282292062327e-324 THEN ${dbl(0)} WHEN abs(${x}) < 1e-300 THEN sign(${x})::float8 * ${dbl(1e-300)} WHEN ${x} > 1e300 THEN CAST('Infinity' AS DOUBLE PRECISION) WHEN ${x} < -1e300 THEN CAST('-Infinity' AS DOUBLE PRECISION) ELSE CAST(${x} AS DOUBLE PRECISION) END`
}

/** The DateTime after parseDateOrTime(), or setRawDateNumber() for a number. */
function parsed(c: Refs, nowJd: number): Columns {
  const a = (i: number) => sql`(${c('a')})[${lit(i)}]`
  const b = (i: number) => sql`(${c('b')})[${lit(i)}]`
  const df = c('df')
  const tf = c('tf')
  const pick = (fromDate: Expression<unknown>, fromTime: Expression<unknown>) =>
    sql`CASE WHEN ${df} THEN ${fromDate} WHEN ${tf} THEN ${fromTime} END`
  // the fraction as SQLite sums it, digits / 10^n in doubles (exact up to 15 digits), at most 0.999
  const seconds = (g: (i: number) => Expression<unknown>, first: number) =>
    sql`(CASE WHEN ${g(first + 2)} IS NULL THEN ${dbl(0)} ELSE CAST(${g(first + 2)} AS DOUBLE PRECISION) END + CASE WHEN ${g(first + 3)} IS NULL THEN ${dbl(0)} ELSE LEAST(CAST(substr(${g(first + 3)}, 1, 17) AS DOUBLE PRECISION) / power(${dbl(10)}, length(substr(${g(first + 3)}, 1, 17))), ${dbl(0.999)}) END)`
  const zone = (g: (i: number) => Expression<unknown>, first: number) =>
    sql`CASE WHEN ${g(first + 4)} IS NULL THEN 0 ELSE (CASE WHEN ${g(first + 4)} = '-' THEN -1 ELSE 1 END) * (CAST(${g(first + 5)} AS BIGINT) * 60 + CAST(${g(first + 6)} AS BIGINT)) END`
  const text = sql`(${df} OR ${tf})`
  const now = sql`(NOT ${text} AND ${c('now')})`
  const raw = sql`(NOT ${text} AND NOT ${c('now')} AND ${c('rn')} IS NOT NULL)`
  const jd = sql`(${c('rn')} >= 0 AND ${c('rn')} < ${dbl(5373484.5)})`
  const tz = pick(zone(a, 5), zone(b, 1))
  return {
    e: sql`NOT (${text} OR ${c('now')} OR ${c('rn')} IS NOT NULL)`,
    y: sql`CASE WHEN ${df} THEN (CASE WHEN ${a(1)} = '-' THEN -1 ELSE 1 END) * CAST(${a(2)} AS BIGINT) END`,
    mo: sql`CASE WHEN ${df} THEN CAST(${a(3)} AS BIGINT) END`,
    d: sql`CASE WHEN ${df} THEN CAST(${a(4)} AS BIGINT) END`,
    vy: df,
    h: sql`COALESCE(${pick(sql`CAST(${a(5)} AS BIGINT)`, sql`CAST(${b(1)} AS BIGINT)`)}, 0)`,
    mi: sql`COALESCE(${pick(sql`CAST(${a(6)} AS BIGINT)`, sql`CAST(${b(2)} AS BIGINT)`)}, 0)`,
    s: sql`COALESCE(${pick(seconds(a, 5), seconds(b, 1))}, ${dbl(0)})`,
    vh: sql`COALESCE(${df} AND ${a(5)} IS NOT NULL OR ${tf}, FALSE)`,
    tz: sql`COALESCE(${tz}, 0)`,
    j: sql`CASE WHEN ${now} THEN CAST(${nowJd} AS BIGINT) WHEN ${raw} AND ${jd} THEN ${clampInt(sql`${c('rn')} * ${dbl(86400000)} + ${dbl(0.5)}`)} END`,
    vj: sql`COALESCE(${now} OR ${raw} AND ${jd}, FALSE)`,
    r: sql`COALESCE(${raw}, FALSE)`,
    rs: sql`CASE WHEN ${raw} THEN ${c('rn')} END`,
    sub: sql`COALESCE(${now} AND ${c('lt')} <> 'now', FALSE)`,
  }
}

/** The iJD of Y-M-D (computeJD()'s Meeus formula), plus h:m:s when they are valid. */
function jdOf(
  y: Expression<unknown>,
  m: Expression<unknown>,
  d: Expression<unknown>,
  c: Refs,
): Expression<unknown> {
  // if (M <= 2) { Y--; M += 12 }
  const y1 = sql`(${y} - CASE WHEN ${m} <= 2 THEN 1 ELSE 0 END)`
  const m1 = sql`(${m} + CASE WHEN ${m} <= 2 THEN 12 ELSE 0 END)`
  const a = sql`((${y1} + 4800) / 100)`
  const b = sql`(38 - ${a} + ${a} / 4)`
  const x1 = sql`(36525 * (${y1} + 4716) / 100)`
  const x2 = sql`(306001 * (${m1} + 1) / 10000)`
  const day = toInt(
    sql`(CAST(${x1} + ${x2} + ${d} + ${b} AS DOUBLE PRECISION) - ${dbl(1524.5)}) * ${dbl(86400000)}`,
  )
  const hms = sql`CASE WHEN ${c('vh')} THEN ${c('h')} * 3600000 + ${c('mi')} * 60000 + ${toInt(sql`${c('s')} * ${dbl(1000)} + ${dbl(0.5)}`)} ELSE 0 END`
  return sql`(${day} + ${hms})`
}

/** computeJD(): the Julian day from Y-M-D h:m:s (2000-01-01 when there is no date), unless valid. */
const computeJD: Op = (c) => {
  const vj = c('vj')
  const y = sql`CASE WHEN ${c('vy')} THEN ${c('y')} ELSE 2000 END`
  const m = sql`CASE WHEN ${c('vy')} THEN ${c('mo')} ELSE 1 END`
  const d = sql`CASE WHEN ${c('vy')} THEN ${c('d')} ELSE 1 END`
  const clear = sql`(NOT ${vj} AND ${c('vh')} AND ${c('tz')} <> 0)`
  const zone = sql`CASE WHEN ${clear} THEN ${c('tz')} * 60000 ELSE 0 END`
  return {
    e: sql`(${c('e')} OR NOT ${vj} AND (${y} NOT BETWEEN -4713 AND 9999 OR ${c('r')}))`,
    j: sql`CASE WHEN ${vj} THEN ${c('j')} ELSE ${jdOf(y, m, d, c)} - ${zone} END`,
    vj: TRUE,
    vy: sql`(${c('vy')} AND NOT ${clear})`,
    vh: sql`(${c('vh')} AND NOT ${clear})`,
    tz: sql`CASE WHEN ${clear} THEN 0 ELSE ${c('tz')} END`,
  }
}

const validJd = (j: Expression<unknown>) => sql`(${j} BETWEEN 0 AND ${lit(MAX_JD)})`

/** 4800 years (12 Gregorian cycles of 146 097 days) put SQLite's years (from -4713) after 1 AD. */
const CYCLES_DAYS = 1753164
const CYCLES_YEARS = 4800

/**
 * computeYMD(): Y-M-D from the Julian day, 2000-01-01 without one, an error out of range. Since 3.46
 * SQLite's Meeus arithmetic is the proleptic Gregorian calendar for every valid day, which
 * PostgreSQL's dates are too; they are shifted 4800 years so that every year is AD (PostgreSQL has no
 * year 0 and no date before 4713 BC). `before` and `after` run in the same step.
 */
function computeYMDSteps(steps: Steps, before?: Op, after?: Op): Steps {
  const ymd: Op = (c) => {
    const day = sql`LEAST(GREATEST((${c('j')} + 43200000) / 86400000, 0), 5373484)`
    const date = sql`(DATE '2000-01-01' + CAST(${day} - 2451545 + ${lit(CYCLES_DAYS)} AS INTEGER))`
    const convert = sql`(NOT ${c('vy')} AND ${c('vj')})`
    const part = (field: 'year' | 'month' | 'day', none: number, own: Expression<unknown>) => {
      const value = sql`CAST(extract(${sql.raw(field)} FROM ${date}) AS BIGINT)`
      const shifted = field === 'year' ? sql`${value} - ${lit(CYCLES_YEARS)}` : value
      return sql`CASE WHEN ${convert} THEN ${shifted} WHEN NOT ${c('vy')} THEN ${lit(none)} ELSE ${own} END`
    }
    return {
      e: sql`(${c('e')} OR ${convert} AND NOT ${validJd(c('j'))})`,
      y: part('year', 2000, c('y')),
      mo: part('month', 1, c('mo')),
      d: part('day', 1, c('d')),
      vy: TRUE,
    }
  }
  return steps.step(chain(...(before ? [before] : []), ymd, ...(after ? [after] : [])))
}

/** computeHMS() once the Julian day is valid: h:m:s from it, unless they are valid. */
const hmsFromJD: Op = (c) => {
  const ms = sql`((${c('j')} + 43200000) % 86400000)`
  const keep = c('vh')
  return {
    s: sql`CASE WHEN ${keep} THEN ${c('s')} ELSE CAST(${ms} % 60000 AS DOUBLE PRECISION) / ${dbl(1000)} END`,
    mi: sql`CASE WHEN ${keep} THEN ${c('mi')} ELSE ${ms} / 60000 % 60 END`,
    h: sql`CASE WHEN ${keep} THEN ${c('h')} ELSE ${ms} / 60000 / 60 END`,
    r: sql`(${c('r')} AND ${keep})`,
    vh: TRUE,
  }
}

/** computeYMD_HMS(), where the Julian day may not be valid yet: computeHMS() computes it first. */
function computeYMDHMSSteps(steps: Steps): Steps {
  return computeYMDSteps(steps)
    .step(onlyIf((c) => sql`NOT ${c('vh')}`, computeJD))
    .step(hmsFromJD)
}

const CLEARED: Columns = { vy: FALSE, vh: FALSE, tz: sql`CAST(0 AS BIGINT)` }

/** parseModifier() of one supported modifier, as steps. */
function modifierSteps(steps: Steps, m: StrftimeModifier): void {
  switch (m.kind) {
    case 'shift': {
      // SQLite computes these in doubles from the amount, a constant: JavaScript's doubles agree
      const rounder = m.amount < 0 ? -0.5 : 0.5
      const whole = Math.trunc(m.amount)
      const calendar = m.unit === 'month' || m.unit === 'year'
      const rest = calendar ? m.amount - whole : m.amount
      const delta = Math.trunc(rest * 1000 * XFORM[m.unit] + rounder)
      const add: Op = (c) => ({ j: sql`${c('j')} + ${param(BigInt(delta))}`, ...CLEARED })
      steps.step(computeJD)
      if (!calendar) {
        steps.step(add)
        return
      }
      const months: Op = (c) => {
        const mo = sql`(${c('mo')} + ${param(BigInt(whole))})`
        const wrap = sql`CASE WHEN ${mo} > 0 THEN (${mo} - 1) / 12 ELSE (${mo} - 12) / 12 END`
        return { y: sql`${c('y')} + ${wrap}`, mo: sql`${mo} - ${wrap} * 12` }
      }
      const years: Op = (c) => ({ y: sql`${c('y')} + ${param(BigInt(whole))}` })
      // the Julian day is valid: computeHMS() computes nothing more
      computeYMDSteps(steps, undefined, hmsFromJD)
        .step(m.unit === 'month' ? months : years)
        .step(chain(() => ({ vj: FALSE }), computeJD, add))
      return
    }
    case 'start':
      computeYMDSteps(
        steps,
        (c) => ({ e: sql`(${c('e')} OR NOT (${c('vj')} OR ${c('vy')} OR ${c('vh')}))` }),
        () => ({
          vh: TRUE,
          h: sql`CAST(0 AS BIGINT)`,
          mi: sql`CAST(0 AS BIGINT)`,
          s: dbl(0),
          r: FALSE,
          tz: sql`CAST(0 AS BIGINT)`,
          vj: FALSE,
          ...(m.unit === 'day' ? {} : { d: sql`CAST(1 AS BIGINT)` }),
          ...(m.unit === 'year' ? { mo: sql`CAST(1 AS BIGINT)` } : {}),
        }),
      )
      return
    case 'weekday': {
      const day = param(BigInt(m.day))
      computeYMDHMSSteps(steps)
        .step(chain(() => ({ tz: sql`CAST(0 AS BIGINT)`, vj: FALSE }), computeJD))
        .step((c) => {
          const z = sql`((${c('j')} + 129600000) / 86400000 % 7)`
          return {
            j: sql`${c('j')} + (${day} - CASE WHEN ${z} > ${day} THEN ${z} - 7 ELSE ${z} END) * 86400000`,
            ...CLEARED,
          }
        })
      return
    }
    case 'unixepoch':
      steps.step((c) => {
        const x = sql`(${c('rs')} * ${dbl(1000)} + ${dbl(UNIX_EPOCH_JD)})`
        const ok = sql`(${c('r')} AND ${x} >= 0 AND ${x} < ${dbl(MAX_JD + 1)})`
        return {
          e: sql`(${c('e')} OR NOT COALESCE(${ok}, FALSE))`,
          j: sql`CASE WHEN ${ok} THEN ${clampInt(sql`${x} + ${dbl(0.5)}`)} ELSE ${c('j')} END`,
          vj: TRUE,
          r: FALSE,
          ...CLEARED,
        }
      })
      return
    case 'julianday':
      steps.step((c) => ({ e: sql`(${c('e')} OR NOT (${c('vj')} AND ${c('r')}))`, r: FALSE }))
      return
    case 'auto':
      steps.step((c) => {
        const x = sql`(${c('rs')} * ${dbl(1000)} + ${dbl(UNIX_EPOCH_JD)})`
        const unix = sql`(${c('r')} AND NOT ${c('vj')} AND ${c('rs')} BETWEEN ${dbl(-UNIX_EPOCH_JD / 1000)} AND ${dbl(253402300799)})`
        return {
          j: sql`CASE WHEN ${unix} THEN ${clampInt(sql`${x} + ${dbl(0.5)}`)} ELSE ${c('j')} END`,
          vj: sql`(${c('vj')} OR ${unix})`,
          r: sql`(${c('r')} AND NOT ${c('vj')} AND NOT ${unix})`,
          vy: sql`(${c('vy')} AND NOT ${unix})`,
          vh: sql`(${c('vh')} AND NOT ${unix})`,
          tz: sql`CASE WHEN ${unix} THEN 0 ELSE ${c('tz')} END`,
        }
      })
      return
    case 'subsec':
      steps.step(() => ({ sub: TRUE }))
      return
  }
}

const pad = (x: Expression<unknown>, width: number, fill = '0') =>
  sql`lpad(CAST(${x} AS TEXT), ${lit(width)}, ${sql.lit(fill)})`

/** printf("%04d", Y): zero-padded to four characters, the sign included. */
function year(y: Expression<unknown>): Expression<unknown> {
  return sql`CASE WHEN ${y} < 0 THEN '-' || CASE WHEN ${y} <= -1000 THEN CAST(-${y} AS TEXT) ELSE ${pad(sql`-${y}`, 3)} END WHEN ${y} > 9999 THEN CAST(${y} AS TEXT) ELSE ${pad(y, 4)} END`
}

/**
 * printf("%06.3f", s): the double rounded to milliseconds exactly as C does it (its binary value,
 * ties away from zero). The fraction is scaled by 2^63 into an integer, exact for every double that
 * can round up, and rounded in numeric.
 */
function seconds(s: Expression<unknown>): Expression<unknown> {
  const clamped = sql`LEAST(${s}, ${dbl(59.999)})`
  const whole = sql`trunc(${clamped})`
  const scaled = sql`CAST(CAST(trunc((${clamped} - ${whole}) * ${dbl(2 ** 63)}) AS BIGINT) AS NUMERIC) * 1000`
  const two63 = sql.raw('9223372036854775808::numeric')
  const ms = sql`(div(${scaled}, ${two63}) + CASE WHEN 2 * mod(${scaled}, ${two63}) >= ${two63} THEN 1 ELSE 0 END)`
  const total = sql`(CAST(${whole} AS BIGINT) * 1000 + CAST(${ms} AS BIGINT))`
  return sql`${pad(sql`${total} / 1000`, 2)} || '.' || ${pad(sql`${total} % 1000`, 3)}`
}

/** Days since January 1st (`nDay` of `%j` and `%W`): from the same time on January 1st. */
function dayOfYear(c: Refs): Expression<unknown> {
  return sql`((${c('j')} - ${jdOf(c('y'), sql`1`, sql`1`, c)} + 43200000) / 86400000)`
}

function specifier(s: StrftimeSpecifier, c: Refs): Expression<unknown> {
  const h12 = sql`CASE WHEN ${c('h')} > 12 THEN ${c('h')} - 12 WHEN ${c('h')} = 0 THEN 12 ELSE ${c('h')} END`
  const weekday = sql`((${c('j')} + 129600000) / 86400000 % 7)`
  const p2 = (x: Expression<unknown>) => pad(x, 2)
  switch (s) {
    case 'd':
      return p2(c('d'))
    case 'e':
      return pad(c('d'), 2, ' ')
    case 'f':
      return seconds(c('s'))
    case 'F':
      return sql`${year(c('y'))} || '-' || ${p2(c('mo'))} || '-' || ${p2(c('d'))}`
    case 'H':
      return p2(c('h'))
    case 'k':
      return pad(c('h'), 2, ' ')
    case 'I':
      return p2(h12)
    case 'l':
      return pad(h12, 2, ' ')
    case 'j':
      return pad(sql`${dayOfYear(c)} + 1`, 3)
    case 'W':
      return p2(sql`(${dayOfYear(c)} + 7 - (${c('j')} + 43200000) / 86400000 % 7) / 7`)
    case 'm':
      return p2(c('mo'))
    case 'M':
      return p2(c('mi'))
    case 'p':
      return sql`CASE WHEN ${c('h')} >= 12 THEN 'PM' ELSE 'AM' END`
    case 'P':
      return sql`CASE WHEN ${c('h')} >= 12 THEN 'pm' ELSE 'am' END`
    case 'R':
      return sql`${p2(c('h'))} || ':' || ${p2(c('mi'))}`
    case 's': {
      const ms = sql`(${c('j')} - ${lit(UNIX_EPOCH_JD)})`
      const subsec = sql`CASE WHEN ${ms} < 0 THEN '-' ELSE '' END || CAST(abs(${ms}) / 1000 AS TEXT) || '.' || ${pad(sql`abs(${ms}) % 1000`, 3)}`
      return sql`CASE WHEN ${c('sub')} THEN ${subsec} ELSE CAST(${c('j')} / 1000 - ${lit(UNIX_EPOCH_JD / 1000)} AS TEXT) END`
    }
    case 'S':
      return p2(sql`CAST(trunc(${c('s')}) AS BIGINT)`)
    case 'T':
      return sql`${p2(c('h'))} || ':' || ${p2(c('mi'))} || ':' || ${p2(sql`CAST(trunc(${c('s')}) AS BIGINT)`)}`
    case 'u':
      return sql`CAST(CASE WHEN ${weekday} = 0 THEN 7 ELSE ${weekday} END AS TEXT)`
    case 'w':
      return sql`CAST(${weekday} AS TEXT)`
    case 'Y':
      return year(c('y'))
    case '%':
      return sql`'%'`
  }
}
