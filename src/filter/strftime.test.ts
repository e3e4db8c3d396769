import fc from 'fast-check'
import { sql, type Kysely } from 'kysely'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import type { DialectName } from '../db/index.js'
import type { FunctionCallNode } from './ast.js'
import { FilterResolveError } from './errors.js'
import { filterDialect } from './filter-dialect.js'
import { compileFilter, parseFilter, SimpleFieldResolver } from './index.js'
import { MAX_FUNCTION_ARGS, MAX_STRFTIME_SPECIFIERS, MAX_STRFTIME_TIME_TEXT } from './limits.js'
import { parseStrftime, STRFTIME_SPECIFIERS, type StrftimeTime } from './strftime.js'
import { referenceStrftime } from './strftime-reference.test-helper.js'
import { openTestDatabase, type TestDatabase } from './test-database.test-helper.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- query results are untyped */

/**
 * `strftime()`: SQLite runs its own function, PostgreSQL the translation in strftime-postgres.ts,
 * and a JavaScript port of SQLite's date.c (strftime-reference.test-helper.ts) says what both must
 * answer. The property runs thousands of generated calls through all three.
 */

const PG = Boolean(process.env.GALLEY_TEST_PG_URL)
const NOW = new Date('2024-06-15T08:00:00.000Z')

function call(text: string): FunctionCallNode {
  const ast = parseFilter(`${text} = ""`)
  if (ast?.kind !== 'Compare' || ast.left.kind !== 'FunctionCall') throw new Error(`not a call: ${text}`)
  return ast.left
}

function error(text: string): FilterResolveError {
  try {
    parseStrftime(call(text))
  } catch (err) {
    if (err instanceof FilterResolveError) return err
    throw err
  }
  throw new Error(`expected an error for ${text}`)
}

describe('strftime(): what is accepted', () => {
  test.each([
    ['strftime()', /expects a format text/, 0],
    ['strftime(created)', /expects a format text/, 9],
    ['strftime(5, created)', /expects a format text/, 9],
    ["strftime('%Y', geoDistance(1, 2, 3, 4))", /expects a field, text or number/, 15],
    ["strftime('%Q', created)", /unsupported strftime\(\) format specifier "%Q"/, 10],
    ["strftime('%Y-%J', created)", /unsupported strftime\(\) format specifier "%J"/, 13],
    ["strftime('%G', created)", /unsupported strftime\(\) format specifier "%G"/, 10],
    ["strftime('%Y%', created)", /ends with a lone "%"/, 12],
    ["strftime('%Y', created, 5)", /modifiers must be texts/, 24],
    ["strftime('%Y', created, created)", /modifiers must be texts/, 24],
    ["strftime('%Y', created, 'localtime')", /unsupported strftime\(\) modifier "localtime"/, 24],
    ["strftime('%Y', created, 'utc')", /unsupported strftime\(\) modifier "utc"/, 24],
    ["strftime('%Y', created, 'floor')", /unsupported strftime\(\) modifier "floor"/, 24],
    ["strftime('%Y', created, '+01:00')", /unsupported strftime\(\) modifier "\+01:00"/, 24],
    ["strftime('%Y', created, '+0001-00-00')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, '1 fortnight')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, '1days')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, ' 1 days')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, '1.1234567 days')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, '1234567890123456 seconds')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, 'weekday 7')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, 'start of week')", /unsupported strftime\(\) modifier/, 24],
    ["strftime('%Y', created, '5373485 days')", /modifier "5373485 days" is out of range/, 24],
    ["strftime('%Y', created, '-14713 years')", /modifier "-14713 years" is out of range/, 24],
    ["strftime('%Y', created, '176546 months')", /out of range/, 24],
    ["strftime('%Y', views, 'start of day', 'unixepoch')", /"unixepoch" must come right after/, 38],
    ["strftime('%Y', views, '1 days', 'auto')", /"auto" must come right after/, 32],
  ])('%s', (text, message, position) => {
    const err = error(text)
    expect(err.message).toMatch(message)
    expect(err.position).toBe(position)
  })

  test('amounts at the limits of their units', () => {
    expect(() => parseStrftime(call("strftime('%Y', created, '5373484.999999 days')"))).not.toThrow()
    expect(() => parseStrftime(call("strftime('%Y', created, '-176545 months')"))).not.toThrow()
    expect(() => parseStrftime(call("strftime('%Y', created, '14712 years')"))).not.toThrow()
    expect(() => parseStrftime(call("strftime('%Y', created, '999999999999999 seconds')"))).toThrow(
      /out of range/,
    )
  })

  test(`at most ${MAX_STRFTIME_SPECIFIERS} specifiers`, () => {
    const at = (n: number) => `strftime('${'%d'.repeat(n)}', created)`
    expect(parseStrftime(call(at(MAX_STRFTIME_SPECIFIERS))).parts).toHaveLength(MAX_STRFTIME_SPECIFIERS)
    expect(error(at(MAX_STRFTIME_SPECIFIERS + 1)).message).toMatch(/too many strftime\(\) format specifiers/)
    // "%%" is text, not a specifier
    expect(() =>
      parseStrftime(call(`strftime('${'%%'.repeat(MAX_STRFTIME_SPECIFIERS + 1)}', created)`)),
    ).not.toThrow()
  })

  test(`at most ${MAX_FUNCTION_ARGS} arguments (the parser's limit, PocketBase's too)`, () => {
    const args = (n: number) => `strftime('%Y', created${", '1 days'".repeat(n - 2)}) = ""`
    expect(() => parseFilter(args(MAX_FUNCTION_ARGS))).not.toThrow()
    expect(() => parseFilter(args(MAX_FUNCTION_ARGS + 1))).toThrow(/too many function arguments/)
  })

  test('modifiers are case-insensitive and canonical for SQLite', () => {
    const parsed = parseStrftime(
      call("strftime('%Y', created, 'Start Of Month', '+1  DAYS', 'WEEKDAY 1', 'SubSecond')"),
    )
    expect(parsed.modifiers.map((m) => m.text)).toEqual(['start of month', '+1 days', 'weekday 1', 'subsec'])
  })
})

// ---------------------------------------------------------------------------------------------
// Evaluation on the databases

async function evaluate(
  db: Kysely<any>,
  name: DialectName,
  cases: readonly { text: string; value: string | number | null }[],
): Promise<(string | null)[]> {
  const d = filterDialect(name)
  const columns = cases.map(({ text, value }, i) => {
    const c = parseStrftime(call(text))
    const time: StrftimeTime =
      value === null ? { type: 'sql', expression: sql`NULL`, kind: 'text' } : { type: 'value', value }
    return sql`${d.strftime(c, time, NOW)} AS ${sql.id(`c${i}`)}`
  })
  const { rows } = await sql<Record<string, string | null>>`SELECT ${sql.join(columns)}`.execute(db)
  return cases.map((_, i) => rows[0]![`c${i}`] ?? null)
}

/** A strftime() call's text and its arguments, for the reference. */
interface Case {
  readonly text: string
  readonly format: string
  readonly value: string | number | null
  readonly modifiers: readonly string[]
}

const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`

function makeCase(format: string, value: string | number | null, modifiers: readonly string[]): Case {
  const args = [quote(format), value === null ? 'null' : `'x'`, ...modifiers.map(quote)]
  return { text: `strftime(${args.join(', ')})`, format, value, modifiers }
}

const FIXED: readonly [
  format: string,
  value: string | number,
  modifiers: string[],
  expected: string | null,
][] = [
  ['%Y-%m-%d %H:%M:%f', '2024-06-01 10:00:00.000Z', [], '2024-06-01 10:00:00.000'],
  ['%Y-%m-%d', '2023-02-31', [], '2023-03-03'],
  ['%Y-%m-%d', '2023-02-31', ['start of day'], '2023-02-31'],
  ['%H %d', '2024-01-31 24:00', [], '24 01'],
  ['%Y-%m-%d %H', '2024-01-01 10:00 +01:00', [], '2024-01-01 09'],
  ['%Y-%m-%d %H', '2024-01-01 10:00+15:00', [], null],
  ['%Y-%m-%d', '-0044-03-15', [], '-044-03-15'],
  ['%Y-%m-%d %H', '10:00', [], '2000-01-01 10'],
  ['%Y-%m-%d %H', '2460000.5', [], '2023-02-25 00'],
  ['%Y-%m-%d %H', 10, [], '-4713-12-04 12'],
  ['%Y-%m-%d %H', -5.5, [], null],
  ['%Y-%m-%d %H', 1700000000, ['unixepoch'], '2023-11-14 22'],
  ['%Y-%m-%d %H', '2024-01-01', ['unixepoch'], null],
  ['%p %P %I %l %k', '2024-01-01 13:05', [], 'PM pm 01  1 13'],
  ['%f', '2024-01-01 13:00:01.1235', [], '01.123'],
  ['%f', '2024-01-01 13:00:01.0625', [], '01.063'],
  ['%f', '2024-01-01 13:00:59.9999', [], '59.999'],
  ['%Y', '0000-01-01', ['-1 days'], '-001'],
  ['%Y-%m-%d', '2024-01-31', ['+1 months'], '2024-03-02'],
  ['%Y-%m-%d', '2024-01-31', ['1.5 months'], '2024-03-17'],
  ['%Y-%m-%d', '2024-01-31', ['weekday 0'], '2024-02-04'],
  ['%Y-%m-%d', '2024-01-31', ['start of month'], '2024-01-01'],
  ['%s', '2024-01-01 00:00:00.1236', ['subsec'], '1704067200.124'],
  ['%s', '1969-12-31 23:59:59.5', ['subsec'], '-0.500'],
  ['%s', '1969-12-31 23:59:59.5', [], '-1'],
  ['%j %W %w %u', '2024-01-07 09:05:03', [], '007 01 0 7'],
  ['%Y-%m-%d', '-5e-324', ['auto', 'start of day'], '1970-01-01'],
  ['%Y-%m-%d', '5e-324', ['auto'], '-4713-11-24'],
  ['%Y-%m-%d', '-0', [], '-4713-11-24'],
  ['%H:%M:%f', '2024-01-01 00:00:00.9999', ['+0 days'], '00:00:00.999'],
  ['%Y-%m-%d', '-2997-01-01', ['-23 month'], '-2999-02-01'],
  ['%Y-%m-%d %H:%M', '01:00+05:00', ['+1 months'], '2000-01-31 20:00'],
  ['%Y-%m-%d', '-0.5e-600', [], '-4713-11-24'],
  ['%Y-%m-%d', '-1e-320', ['auto'], '1970-01-01'],
  ['%F %T %R %e', '2024-01-07 09:05:03', [], '2024-01-07 09:05:03 09:05  7'],
  ['%Y %j %W', '-4713-11-25', [], '-4713 329 47'],
  ['%Y', '9999-12-31 24:00', [], null],
  ['%d %m %Y', '9999-12-31 24:00', ['start of day'], '31 12 9999'],
  ['%Y', 5373484.5, [], null],
  ['%Y', '1e-400', [], '-4713'],
  ['%Y', ' 2460000.5 ', [], '2023'],
  ['%Y', '1e400', [], null],
  ['', '2024-01-31', [], ''],
  ['', 'nope', [], null],
  ['100%% %Y', '2024-01-31', [], '100% 2024'],
]

for (const name of ['sqlite', 'postgres'] as const) {
  const skip = name === 'postgres' && !PG
  describe.skipIf(skip)(
    `strftime() on ${name}${skip ? ' (SKIPPED: GALLEY_TEST_PG_URL is not set)' : ''}`,
    () => {
      let database: TestDatabase
      beforeAll(async () => {
        database = await openTestDatabase(name)
      })
      afterAll(async () => database?.close())

      test('SQLite answers, as documented', async () => {
        const cases = FIXED.map(([format, value, modifiers]) => makeCase(format, value, modifiers))
        const got = await evaluate(database.db, name, cases)
        expect(got).toEqual(FIXED.map((f) => f[3]))
        expect(cases.map((c) => referenceStrftime(c.format, c.value, c.modifiers, NOW))).toEqual(
          FIXED.map((f) => f[3]),
        )
      })

      test(`a text of at most ${MAX_STRFTIME_TIME_TEXT} characters is a time value`, async () => {
        const date = (n: number) => '2024-01-01'.padEnd(n, ' ')
        const number = (n: number) => '5'.padStart(n, '0')
        const values = [date(MAX_STRFTIME_TIME_TEXT), date(MAX_STRFTIME_TIME_TEXT + 1)]
        const numbers = [number(MAX_STRFTIME_TIME_TEXT), number(MAX_STRFTIME_TIME_TEXT + 1)]
        const d = filterDialect(name)
        const c = parseStrftime(call("strftime('%Y-%m-%d', x)"))
        const columns = [...values, ...numbers].flatMap((v, i) => [
          sql`${d.strftime(c, { type: 'value', value: v }, NOW)} AS ${sql.id(`v${i}`)}`,
          sql`${d.strftime(c, { type: 'sql', expression: sql`CAST(${v} AS TEXT)`, kind: 'text' }, NOW)} AS ${sql.id(`s${i}`)}`,
        ])
        const { rows } = await sql<Record<string, string | null>>`SELECT ${sql.join(columns)}`.execute(
          database.db,
        )
        const expected = ['2024-01-01', null, '-4713-11-29', null]
        expect(expected.map((_, i) => rows[0]![`v${i}`])).toEqual(expected)
        expect(expected.map((_, i) => rows[0]![`s${i}`])).toEqual(expected)
      })

      test("the time value 'now' and no time value are the request time", async () => {
        const resolver = new SimpleFieldResolver({ id: 'text' })
        const ids = async (filter: string) => {
          const where = compileFilter(parseFilter(filter)!, resolver, filterDialect(name), { now: NOW })
          const { rows } = await sql<{ v: number }>`SELECT CASE WHEN ${where} THEN 1 ELSE 0 END AS v`.execute(
            database.db,
          )
          return rows[0]!.v
        }
        expect(await ids(`strftime('%Y-%m-%d %H:%M:%f') = "2024-06-15 08:00:00.000"`)).toBe(1)
        expect(await ids(`strftime('%Y-%m-%d %H:%M:%f', 'NOW') = "2024-06-15 08:00:00.000"`)).toBe(1)
        expect(await ids(`strftime('%s', 'subsec') = "1718438400.000"`)).toBe(1)
        expect(await ids(`strftime('%H', @now, '+2 hours') = "10"`)).toBe(1)
        expect(await ids(`strftime('%Y', null) = ""`)).toBe(1)
        expect(await ids(`strftime('%Y', 'garbage') = ""`)).toBe(1)
        expect(await ids(`strftime('%Y', 'garbage') != ""`)).toBe(0)
        expect(await ids(`strftime('%Y', true) = "-4713"`)).toBe(1)
      })
    },
  )
}

// ---------------------------------------------------------------------------------------------
// The property: SQLite, PostgreSQL and the reference agree

const pad = (n: number, w: number) => String(n).padStart(w, '0')
const int = (min: number, max: number) => fc.integer({ min, max })
const WS = fc.constantFrom('', ' ', '  ', '\t', '\n', '\r', '\v', '\f')

const time = fc
  .tuple(
    int(0, 25),
    int(0, 60),
    fc.option(fc.tuple(int(0, 60), fc.option(fc.stringMatching(/^\d{1,15}$/), { nil: undefined })), {
      nil: undefined,
    }),
  )
  .map(([h, m, sec]) => {
    if (sec === undefined) return `${pad(h, 2)}:${pad(m, 2)}`
    const [s, frac] = sec
    return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${frac === undefined ? '' : `.${frac}`}`
  })
const zone = fc.oneof(
  fc.constant(''),
  fc.constantFrom('Z', 'z', ' Z', 'Z '),
  fc
    .tuple(fc.constantFrom('+', '-'), int(0, 15), int(0, 60), WS)
    .map(([s, h, m, w]) => `${s}${pad(h, 2)}:${pad(m, 2)}${w}`),
)
const date = fc
  .tuple(
    fc.constantFrom('', '', '', '-'),
    fc.oneof(int(0, 9999), fc.constantFrom(0, 1, 1969, 1970, 2000, 2024, 4713, 9999)),
    int(0, 13),
    int(0, 32),
  )
  .map(([neg, y, m, d]) => `${neg}${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`)
const dateText = fc.oneof(
  date,
  fc
    .tuple(date, fc.constantFrom(' ', 'T', '  ', '\t', 'TT', ' T', ''), time, zone)
    .map(([d, sep, t, z]) => `${d}${sep}${t}${z}`),
  fc.tuple(date, WS).map(([d, w]) => `${d}${w}`),
  fc.tuple(time, zone).map(([t, z]) => `${t}${z}`),
)
const numericText = fc.oneof(
  fc.double({ min: -1e12, max: 1e12, noNaN: true }).map(String),
  fc.integer({ min: -10, max: 5373490 }).map(String),
  fc
    .tuple(WS, fc.stringMatching(/^[+-]?(\d{1,8}(\.\d{0,6})?|\.\d{1,6})([eE][+-]?\d{1,3})?$/), WS)
    .map(([a, n, b]) => `${a}${n}${b}`),
)
const garbage = fc.string({ unit: fc.constantFrom(...'0123456789-:. TZz+eE/x'.split('')), maxLength: 24 })
const number = fc.oneof(
  fc.double({ min: -100, max: 5373500, noNaN: true }),
  fc.integer({ min: -2e11, max: 2.6e11 }),
  fc.integer({ min: 0, max: 5373484 }),
  fc.constantFrom(0, 1, 5373484.4999, 5373484.5, -0, 2460000.25, 1.7e9),
)
const value: fc.Arbitrary<string | number> = fc.oneof(
  { weight: 5, arbitrary: dateText },
  { weight: 2, arbitrary: numericText },
  { weight: 1, arbitrary: garbage },
  { weight: 2, arbitrary: number },
)

const amount = fc.oneof(
  fc.integer({ min: -400, max: 400 }).map(String),
  fc.integer({ min: -20000, max: 20000 }).map((n) => (n >= 0 && n % 2 ? `+${n}` : String(n))),
  fc
    .tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 999999 }))
    .map(([w, f]) => `${w}.${pad(f, 6).replace(/0+$/, '') || '0'}`),
)
const shift = fc
  .tuple(amount, fc.constantFrom('day', 'hour', 'minute', 'second', 'month', 'year'), fc.boolean())
  .map(([a, unit, plural]) => `${a} ${unit}${plural ? 's' : ''}`)
const modifier = fc.oneof(
  { weight: 4, arbitrary: shift },
  { weight: 2, arbitrary: fc.constantFrom('start of day', 'start of month', 'start of year') },
  { weight: 1, arbitrary: int(0, 6).map((n) => `weekday ${n}`) },
  { weight: 1, arbitrary: fc.constant('subsec') },
)
const modifiers = fc
  .tuple(
    fc.option(fc.constantFrom('unixepoch', 'julianday', 'auto'), { nil: undefined, freq: 3 }),
    fc.array(modifier, { maxLength: 3 }),
  )
  .map(([first, rest]) => (first === undefined ? rest : [first, ...rest]))
const format = fc
  .array(
    fc.oneof(
      fc.constantFrom(...STRFTIME_SPECIFIERS.split('').map((s) => `%${s}`)),
      fc.constantFrom('-', ' ', ':', 'T', 'x', '%%'),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''))

/** Cases the compiler accepts (amounts can still be out of range for their unit). */
const accepted = (c: Case) => {
  try {
    parseStrftime(call(c.text))
    return true
  } catch (err) {
    if (err instanceof FilterResolveError) return false
    throw err
  }
}
const batch = fc
  .array(
    fc.tuple(format, value, modifiers).map(([f, v, m]) => makeCase(f, v, m)),
    { minLength: 25, maxLength: 25 },
  )
  .map((cases) => cases.filter(accepted))

const RUNS = Number(process.env.STRFTIME_RUNS ?? 100)

describe('strftime(): SQLite, PostgreSQL and the reference agree', () => {
  let sqlite: TestDatabase
  let postgres: TestDatabase | undefined
  beforeAll(async () => {
    sqlite = await openTestDatabase('sqlite')
    if (PG) postgres = await openTestDatabase('postgres')
  })
  afterAll(async () => {
    await sqlite?.close()
    await postgres?.close()
  })

  test(`${RUNS} batches of 25 generated calls`, async () => {
    let checked = 0
    await fc.assert(
      fc.asyncProperty(batch, async (cases) => {
        const expected = cases.map((c) => referenceStrftime(c.format, c.value, c.modifiers, NOW))
        const show = (got: (string | null)[]) =>
          cases.map((c, i) => ({ call: c.text, value: c.value, got: got[i], expected: expected[i] }))
        const a = await evaluate(sqlite.db, 'sqlite', cases)
        expect(show(a)).toEqual(show(expected))
        if (postgres) {
          const b = await evaluate(postgres.db, 'postgres', cases)
          expect(show(b)).toEqual(show(expected))
        }
        checked += cases.length
      }),
      { numRuns: RUNS, ...(process.env.STRFTIME_SEED ? { seed: Number(process.env.STRFTIME_SEED) } : {}) },
    )
    expect(checked).toBeGreaterThan(RUNS * 20)
  }, 120_000)
})
