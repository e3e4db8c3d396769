import { randomBytes } from 'node:crypto'
import BetterSqlite3 from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ColumnKind, GalleyDialect } from '../db/index.js'
import { postgresDialect } from '../db/dialects/postgres.js'
import { sqliteDialect } from '../db/dialects/sqlite.js'
import {
  IndexStatementError,
  MAX_INDEX_COLUMNS,
  MAX_INDEX_NAME_LENGTH,
  MAX_INDEX_STATEMENT_LENGTH,
  MAX_INDEX_WHERE_DEPTH,
  emitIndexSql,
  formatIndexStatement,
  normalizeColumnCase,
  parseIndexStatement,
  validateIndexColumns,
  type IndexStatement,
  type WhereExpr,
} from './index-statement.js'

const TABLE = 'users'
const cols = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `c${String(i + 1).padStart(2, '0')}`)
const nest = (n: number, inner: string): string => '('.repeat(n) + inner + ')'.repeat(n)

interface Valid {
  input: string
  canonical: string
  sqlite: string
  postgres: string
  ast?: IndexStatement
}

const VALID: Valid[] = [
  {
    input: 'CREATE INDEX idx_a ON posts (email)',
    canonical: 'CREATE INDEX `idx_a` ON `users` (`email`)',
    sqlite: 'CREATE INDEX "idx_a" ON "users" ("email")',
    postgres: 'CREATE INDEX "idx_a" ON "users" ("email")',
    ast: { unique: false, name: 'idx_a', table: 'posts', columns: [{ name: 'email' }] },
  },
  {
    input: "CREATE UNIQUE INDEX idx_email_abc ON users (email COLLATE NOCASE) WHERE email != ''",
    canonical: "CREATE UNIQUE INDEX `idx_email_abc` ON `users` (`email` COLLATE NOCASE) WHERE `email` != ''",
    sqlite: `CREATE UNIQUE INDEX "idx_email_abc" ON "users" ("email" COLLATE NOCASE) WHERE "email" != ''`,
    postgres: `CREATE UNIQUE INDEX "idx_email_abc" ON "users" (lower("email")) WHERE "email" != ''`,
    ast: {
      unique: true,
      name: 'idx_email_abc',
      table: 'users',
      columns: [{ name: 'email', collate: 'nocase' }],
      where: { kind: 'compare', column: 'email', op: '!=', value: '' },
    },
  },
  {
    input: 'CREATE UNIQUE INDEX `idx_tokenKey_pbc_1` ON `_pb_users_auth_` (`tokenKey`)',
    canonical: 'CREATE UNIQUE INDEX `idx_tokenKey_pbc_1` ON `users` (`tokenKey`)',
    sqlite: 'CREATE UNIQUE INDEX "idx_tokenKey_pbc_1" ON "users" ("tokenKey")',
    postgres: 'CREATE UNIQUE INDEX "idx_tokenKey_pbc_1" ON "users" ("tokenKey")',
  },
  {
    input: 'create index "i_dq" on "u" ("name" desc)',
    canonical: 'CREATE INDEX `i_dq` ON `users` (`name` DESC)',
    sqlite: 'CREATE INDEX "i_dq" ON "users" ("name" DESC)',
    postgres: 'CREATE INDEX "i_dq" ON "users" ("name" DESC)',
  },
  {
    input: 'CREATE INDEX [i_br] ON [users] ([name] COLLATE BINARY ASC)',
    canonical: 'CREATE INDEX `i_br` ON `users` (`name` COLLATE BINARY ASC)',
    sqlite: 'CREATE INDEX "i_br" ON "users" ("name" ASC)',
    postgres: 'CREATE INDEX "i_br" ON "users" ("name" ASC)',
  },
  {
    input: 'CrEaTe InDeX iF nOt ExIsTs i_multi On users (name DESC, email collate nocase ASC, age)',
    canonical: 'CREATE INDEX `i_multi` ON `users` (`name` DESC, `email` COLLATE NOCASE ASC, `age`)',
    sqlite: 'CREATE INDEX "i_multi" ON "users" ("name" DESC, "email" COLLATE NOCASE ASC, "age")',
    postgres: 'CREATE INDEX "i_multi" ON "users" ("name" DESC, lower("email") ASC, "age")',
    ast: {
      unique: false,
      name: 'i_multi',
      table: 'users',
      columns: [
        { name: 'name', direction: 'desc' },
        { name: 'email', collate: 'nocase', direction: 'asc' },
        { name: 'age' },
      ],
    },
  },
  {
    input: 'CREATE UNIQUE INDEX i_rtrim ON users (name COLLATE "RTRIM")',
    canonical: 'CREATE UNIQUE INDEX `i_rtrim` ON `users` (`name` COLLATE RTRIM)',
    sqlite: 'CREATE UNIQUE INDEX "i_rtrim" ON "users" (rtrim("name"))',
    postgres: 'CREATE UNIQUE INDEX "i_rtrim" ON "users" (rtrim("name"))',
  },
  {
    input: '\n  CREATE INDEX i_ws\n\tON users(email)  ;  \r\n',
    canonical: 'CREATE INDEX `i_ws` ON `users` (`email`)',
    sqlite: 'CREATE INDEX "i_ws" ON "users" ("email")',
    postgres: 'CREATE INDEX "i_ws" ON "users" ("email")',
  },
  {
    input: "CREATE INDEX i_and_or ON users (age) WHERE age >= 18 AND (verified = TRUE OR name <> 'x')",
    canonical:
      "CREATE INDEX `i_and_or` ON `users` (`age`) WHERE `age` >= 18 AND (`verified` = TRUE OR `name` != 'x')",
    sqlite: `CREATE INDEX "i_and_or" ON "users" ("age") WHERE "age" >= 18 AND ("verified" = TRUE OR "name" != 'x')`,
    postgres: `CREATE INDEX "i_and_or" ON "users" ("age") WHERE "age" >= 18 AND ("verified" = TRUE OR "name" != 'x')`,
    ast: {
      unique: false,
      name: 'i_and_or',
      table: 'users',
      columns: [{ name: 'age' }],
      where: {
        kind: 'and',
        operands: [
          { kind: 'compare', column: 'age', op: '>=', value: 18 },
          {
            kind: 'or',
            operands: [
              { kind: 'compare', column: 'verified', op: '=', value: true },
              { kind: 'compare', column: 'name', op: '!=', value: 'x' },
            ],
          },
        ],
      },
    },
  },
  {
    input:
      "CREATE INDEX i_lit_left ON users (age) WHERE 18 < age AND 'a' >= name AND '' != email AND 1 == age",
    canonical:
      "CREATE INDEX `i_lit_left` ON `users` (`age`) WHERE `age` > 18 AND `name` <= 'a' AND `email` != '' AND `age` = 1",
    sqlite: `CREATE INDEX "i_lit_left" ON "users" ("age") WHERE "age" > 18 AND "name" <= 'a' AND "email" != '' AND "age" = 1`,
    postgres: `CREATE INDEX "i_lit_left" ON "users" ("age") WHERE "age" > 18 AND "name" <= 'a' AND "email" != '' AND "age" = 1`,
  },
  {
    input: 'CREATE INDEX i_null ON users (meta) WHERE meta IS NOT NULL OR name IS NULL',
    canonical: 'CREATE INDEX `i_null` ON `users` (`meta`) WHERE `meta` IS NOT NULL OR `name` IS NULL',
    sqlite: 'CREATE INDEX "i_null" ON "users" ("meta") WHERE "meta" IS NOT NULL OR "name" IS NULL',
    postgres: 'CREATE INDEX "i_null" ON "users" ("meta") WHERE "meta" IS NOT NULL OR "name" IS NULL',
  },
  {
    input: "CREATE INDEX i_is_lit ON users (name) WHERE name IS 'bob' OR email IS NOT '' OR age IS 3",
    canonical:
      "CREATE INDEX `i_is_lit` ON `users` (`name`) WHERE `name` IS 'bob' OR `email` IS NOT '' OR `age` IS 3",
    sqlite: `CREATE INDEX "i_is_lit" ON "users" ("name") WHERE "name" IS NOT DISTINCT FROM 'bob' OR "email" IS DISTINCT FROM '' OR "age" IS NOT DISTINCT FROM 3`,
    postgres: `CREATE INDEX "i_is_lit" ON "users" ("name") WHERE "name" IS NOT DISTINCT FROM 'bob' OR "email" IS DISTINCT FROM '' OR "age" IS NOT DISTINCT FROM 3`,
  },
  {
    input: 'CREATE INDEX i_is_bool ON users (name) WHERE verified IS NOT FALSE AND verified IS TRUE',
    canonical:
      'CREATE INDEX `i_is_bool` ON `users` (`name`) WHERE `verified` IS NOT FALSE AND `verified` IS TRUE',
    sqlite:
      'CREATE INDEX "i_is_bool" ON "users" ("name") WHERE "verified" IS NOT FALSE AND "verified" IS TRUE',
    postgres:
      'CREATE INDEX "i_is_bool" ON "users" ("name") WHERE "verified" IS NOT FALSE AND "verified" IS TRUE',
  },
  {
    input:
      'CREATE INDEX i_not ON users (age) WHERE NOT (age < 0) AND NOT verified = FALSE AND NOT NOT age > 1',
    canonical:
      'CREATE INDEX `i_not` ON `users` (`age`) WHERE NOT (`age` < 0) AND NOT (`verified` = FALSE) AND NOT (NOT (`age` > 1))',
    sqlite:
      'CREATE INDEX "i_not" ON "users" ("age") WHERE NOT ("age" < 0) AND NOT ("verified" = FALSE) AND NOT (NOT ("age" > 1))',
    postgres:
      'CREATE INDEX "i_not" ON "users" ("age") WHERE NOT ("age" < 0) AND NOT ("verified" = FALSE) AND NOT (NOT ("age" > 1))',
  },
  {
    input:
      "CREATE INDEX i_str ON users (name) WHERE name != 'it''s' AND name != '''' AND name != 'a\"b;--/*'",
    canonical:
      "CREATE INDEX `i_str` ON `users` (`name`) WHERE `name` != 'it''s' AND `name` != '''' AND `name` != 'a\"b;--/*'",
    sqlite: `CREATE INDEX "i_str" ON "users" ("name") WHERE "name" != 'it''s' AND "name" != '''' AND "name" != 'a"b;--/*'`,
    postgres: `CREATE INDEX "i_str" ON "users" ("name") WHERE "name" != 'it''s' AND "name" != '''' AND "name" != 'a"b;--/*'`,
  },
  {
    input: 'CREATE INDEX i_num ON users (age) WHERE age > -1.5 AND age < +100 AND age != 0.250 AND age != -0',
    canonical:
      'CREATE INDEX `i_num` ON `users` (`age`) WHERE `age` > -1.5 AND `age` < 100 AND `age` != 0.25 AND `age` != 0',
    sqlite:
      'CREATE INDEX "i_num" ON "users" ("age") WHERE "age" > -1.5 AND "age" < 100 AND "age" != 0.25 AND "age" != 0',
    postgres:
      'CREATE INDEX "i_num" ON "users" ("age") WHERE "age" > -1.5 AND "age" < 100 AND "age" != 0.25 AND "age" != 0',
  },
  {
    input: 'CREATE INDEX "select" ON users ("email" COLLATE NOCASE DESC)',
    canonical: 'CREATE INDEX `select` ON `users` (`email` COLLATE NOCASE DESC)',
    sqlite: 'CREATE INDEX "select" ON "users" ("email" COLLATE NOCASE DESC)',
    postgres: 'CREATE INDEX "select" ON "users" (lower("email") DESC)',
  },
  {
    input: `CREATE INDEX i_deep ON users (age) WHERE ${nest(MAX_INDEX_WHERE_DEPTH, 'age = 1')}`,
    canonical: 'CREATE INDEX `i_deep` ON `users` (`age`) WHERE `age` = 1',
    sqlite: 'CREATE INDEX "i_deep" ON "users" ("age") WHERE "age" = 1',
    postgres: 'CREATE INDEX "i_deep" ON "users" ("age") WHERE "age" = 1',
  },
  {
    input: `CREATE INDEX i_32 ON users (${cols(MAX_INDEX_COLUMNS).join(',')})`,
    canonical: `CREATE INDEX \`i_32\` ON \`users\` (${cols(32)
      .map((c) => `\`${c}\``)
      .join(', ')})`,
    sqlite: `CREATE INDEX "i_32" ON "users" (${cols(32)
      .map((c) => `"${c}"`)
      .join(', ')})`,
    postgres: `CREATE INDEX "i_32" ON "users" (${cols(32)
      .map((c) => `"${c}"`)
      .join(', ')})`,
  },
]

/** Each of these must be rejected; `message` (when given) is the exact error message. */
const INVALID: { input: string; message?: string }[] = [
  { input: 'CREATE INDEX i ON t (a); DROP TABLE x', message: 'unexpected "DROP" at 25' },
  {
    input: "CREATE UNIQUE INDEX i ON t (a) ; ATTACH DATABASE 'x' AS y",
    message: 'unexpected "ATTACH" at 33',
  },
  { input: 'CREATE INDEX i ON t (a);;', message: 'unexpected ";" at 24' },
  { input: 'CREATE INDEX i ON t (a) -- comment', message: 'comments are not allowed at 24' },
  { input: 'CREATE INDEX i ON t (a) /* c */', message: 'comments are not allowed at 24' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 1--', message: 'comments are not allowed at 35' },
  { input: 'CREATE INDEX i ON t (lower(a))', message: 'unexpected "(" at 26' },
  { input: 'CREATE INDEX i ON t (a) WHERE abs(a) > 1', message: 'unexpected "(" at 33' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = (SELECT 1)', message: 'unexpected "(" at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a IN (SELECT id FROM u)', message: 'unexpected "IN" at 32' },
  { input: 'CREATE INDEX i ON t ((SELECT 1))' },
  { input: 'CREATE INDEX i ON t (a) WHERE (SELECT 1) = 1', message: 'unexpected "SELECT" at 31' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 1 UNION SELECT 1', message: 'unexpected "UNION" at 36' },
  { input: 'CREATE INDEX i ON t (a', message: 'unexpected end of statement at 22' },
  { input: 'CREATE INDEX i ON t (a))', message: 'unexpected ")" at 23' },
  { input: 'CREATE INDEX i ON t (a) WHERE (a = 1', message: 'unexpected end of statement at 36' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 1)', message: 'unexpected ")" at 35' },
  { input: "CREATE INDEX i ON t (a) WHERE a = 'abc", message: 'unterminated string at 34' },
  { input: "CREATE INDEX i ON t (a) WHERE a = 'it''", message: 'unterminated string at 34' },
  { input: 'CREATE INDEX `i`` ON t (a)', message: 'unterminated quoted identifier at 16' },
  { input: 'CREATE INDEX i ON t ([a]])', message: 'unexpected character "]" at 24' },
  { input: 'CREATE INDEX i ON t (a\0)', message: 'NUL byte at 22' },
  { input: "CREATE INDEX i ON t (a) WHERE a = 'x\0'", message: 'NUL byte at 36' },
  { input: 'CREATE TABLE t (a TEXT)', message: 'unexpected "TABLE" at 7' },
  { input: 'DROP INDEX i', message: 'unexpected "DROP" at 0' },
  { input: '', message: 'unexpected end of statement at 0' },
  { input: ';' },
  { input: 'CREATE INDEX i ON t ()', message: 'unexpected ")" at 21' },
  { input: 'CREATE INDEX i ON main.t (a)', message: 'unexpected character "." at 22' },
  { input: 'CREATE INDEX i-x ON t (a)', message: 'unexpected character "-" at 14' },
  { input: 'CREATE INDEX "i x" ON t (a)', message: 'invalid index name at 13' },
  { input: 'CREATE INDEX i ON t ("a;b")', message: 'invalid column name at 21' },
  { input: 'CREATE INDEX i ON "t" (a) WHERE "a""" = 1' },
  { input: 'CREATE INDEX é ON t (a)', message: 'unexpected character "é" at 13' },
  { input: 'CREATE INDEX\u00a0i ON t (a)', message: 'unexpected character "\u00a0" at 12' },
  { input: 'CREATE INDEX i ON t (select)', message: 'unexpected "select" at 21' },
  { input: 'CREATE INDEX ON t (a)', message: 'unexpected "ON" at 13' },
  { input: 'CREATE INDEX i ON t (a COLLATE fr_FR)', message: 'unexpected "fr_FR" at 31' },
  { input: 'CREATE INDEX i ON t (a ASC DESC)', message: 'unexpected "DESC" at 27' },
  { input: 'CREATE INDEX IF EXISTS i ON t (a)', message: 'unexpected "EXISTS" at 16' },
  { input: "CREATE INDEX i ON t (a) WHERE a LIKE 'x%'", message: 'unexpected "LIKE" at 32' },
  { input: 'CREATE INDEX i ON t (a) WHERE a BETWEEN 1 AND 2' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = b', message: 'unexpected "b" at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE 1 = 1', message: 'unexpected "1" at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a', message: 'unexpected end of statement at 31' },
  { input: 'CREATE INDEX i ON t (a) WHERE', message: 'unexpected end of statement at 29' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 1 AND', message: 'unexpected end of statement at 39' },
  { input: 'CREATE INDEX i ON t (a) WHERE NOT', message: 'unexpected end of statement at 33' },
  { input: 'CREATE INDEX i ON t (a) WHERE a IS DISTINCT FROM 1', message: 'unexpected "DISTINCT" at 35' },
  { input: "CREATE INDEX i ON t (a) WHERE a = 'x' COLLATE NOCASE", message: 'unexpected "COLLATE" at 38' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 1e5', message: 'invalid number at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 0x10', message: 'invalid number at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 1.2.3', message: 'invalid number at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 99999999999999999999', message: 'number out of range at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = 1 + 1', message: 'unexpected character "+" at 36' },
  { input: "CREATE INDEX i ON t (a) WHERE a || 'x' = 'y'", message: 'unexpected character "|" at 32' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = ?', message: 'unexpected character "?" at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = :p', message: 'unexpected character ":" at 34' },
  { input: 'CREATE INDEX i ON t (a) WHERE a = "x"', message: 'unexpected "\\"x\\"" at 34' },
  { input: "CREATE INDEX i ON t (a) WHERE a = x'00'", message: 'unexpected "x" at 34' },
  {
    input: 'CREATE INDEX i ON t (a) WHERE a = CURRENT_TIMESTAMP',
    message: 'unexpected "CURRENT_TIMESTAMP" at 34',
  },
  {
    input: `CREATE INDEX i ON t (a) WHERE ${nest(MAX_INDEX_WHERE_DEPTH + 1, 'a = 1')}`,
    message: 'WHERE is nested deeper than 32 levels at 62',
  },
  {
    input: `CREATE INDEX i ON t (a) WHERE ${'NOT '.repeat(MAX_INDEX_WHERE_DEPTH + 1)}a = 1`,
    message: 'WHERE is nested deeper than 32 levels at 158',
  },
  {
    input: `CREATE INDEX i ON t (${cols(MAX_INDEX_COLUMNS + 1).join(', ')})`,
    message: 'an index has at most 32 columns at 181',
  },
  {
    input: `CREATE INDEX i ON t (${'a'.repeat(MAX_INDEX_NAME_LENGTH + 1)})`,
    message: 'column name is longer than 63 characters at 21',
  },
  {
    input: `CREATE INDEX ${'i'.repeat(MAX_INDEX_NAME_LENGTH + 1)} ON t (a)`,
    message: 'index name is longer than 63 characters at 13',
  },
  {
    input: 'CREATE INDEX i ON t (a)'.padEnd(MAX_INDEX_STATEMENT_LENGTH + 1, ' '),
    message: 'index statement is longer than 3000 characters at 3000',
  },
  { input: null as unknown as string, message: 'index statement must be a string at 0' },
]

/** The statement padded by a string literal to exactly `length` characters. */
function statementOfLength(length: number): string {
  const head = "CREATE INDEX i_len ON users (name) WHERE name != '"
  return `${head}${'x'.repeat(length - head.length - 1)}'`
}

describe('parseIndexStatement / formatIndexStatement / emitIndexSql', () => {
  it.each(VALID)('accepts $input', (c) => {
    const stmt = parseIndexStatement(c.input)
    if (c.ast) expect(stmt).toEqual(c.ast)
    expect(formatIndexStatement(stmt, TABLE)).toBe(c.canonical)
    expect(emitIndexSql(stmt, TABLE, sqliteDialect)).toBe(c.sqlite)
    expect(emitIndexSql(stmt, TABLE, postgresDialect)).toBe(c.postgres)
    // the canonical text is a fixed point
    const again = parseIndexStatement(c.canonical)
    expect(again).toEqual({ ...stmt, table: TABLE })
    expect(formatIndexStatement(again, TABLE)).toBe(c.canonical)
  })

  it.each(INVALID)('rejects $input', ({ input, message }) => {
    let error: unknown
    try {
      parseIndexStatement(input)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(IndexStatementError)
    expect(error).toBeInstanceOf(Error)
    if (message !== undefined) expect((error as Error).message).toBe(message)
  })

  it('has at least 30 rejected scenarios', () => {
    expect(INVALID.length).toBeGreaterThanOrEqual(30)
  })

  it('accepts a statement of exactly MAX_INDEX_STATEMENT_LENGTH characters and rejects one more', () => {
    const atLimit = statementOfLength(MAX_INDEX_STATEMENT_LENGTH)
    expect(atLimit).toHaveLength(3000)
    expect(parseIndexStatement(atLimit).name).toBe('i_len')
    const over = statementOfLength(MAX_INDEX_STATEMENT_LENGTH + 1)
    expect(() => parseIndexStatement(over)).toThrow(IndexStatementError)
  })

  it('applies the name limit (63) to index and column names, at limit and limit+1', () => {
    const n = 'n'.repeat(MAX_INDEX_NAME_LENGTH)
    expect(parseIndexStatement(`CREATE INDEX ${n} ON t (\`${n}\`)`)).toMatchObject({
      name: n,
      columns: [{ name: n }],
    })
    expect(() => parseIndexStatement(`CREATE INDEX i ON t (\`${n}x\`)`)).toThrow(/longer than 63/)
    expect(() => parseIndexStatement(`CREATE INDEX [${n}x] ON t (a)`)).toThrow(/longer than 63/)
  })

  it('returns a deeply frozen AST', () => {
    const stmt = parseIndexStatement(
      "CREATE INDEX i ON t (a COLLATE NOCASE) WHERE NOT (a = 'x' OR a IS NULL)",
    )
    expect(Object.isFrozen(stmt)).toBe(true)
    expect(Object.isFrozen(stmt.columns)).toBe(true)
    expect(Object.isFrozen(stmt.columns[0])).toBe(true)
    const where = stmt.where as Extract<WhereExpr, { kind: 'not' }>
    expect(Object.isFrozen(where)).toBe(true)
    expect(Object.isFrozen(where.operand)).toBe(true)
    expect(() => {
      ;(stmt as { name: string }).name = 'x'
    }).toThrow(TypeError)
  })

  it('includes the position in the error', () => {
    try {
      parseIndexStatement('CREATE INDEX i ON t (a) WHERE a = 1 DROP')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(IndexStatementError)
      expect((err as IndexStatementError).position).toBe(36)
      expect((err as Error).message).toBe('unexpected "DROP" at 36')
    }
  })

  it('refuses to render names that are not ^\\w+$ from a hand-built AST or table argument', () => {
    const bad: IndexStatement = {
      unique: false,
      name: 'i"; DROP TABLE x; --',
      table: 't',
      columns: [{ name: 'a' }],
    }
    expect(() => emitIndexSql(bad, TABLE, sqliteDialect)).toThrow(IndexStatementError)
    expect(() => formatIndexStatement(bad, TABLE)).toThrow(IndexStatementError)
    const good = parseIndexStatement('CREATE INDEX i ON t (a)')
    expect(() => emitIndexSql(good, 'users; DROP TABLE x', postgresDialect)).toThrow(IndexStatementError)
    expect(() => formatIndexStatement(good, 'a`b')).toThrow(IndexStatementError)
    const badOp = {
      ...good,
      where: { kind: 'compare', column: 'a', op: 'LIKE', value: 'x' },
    } as unknown as IndexStatement
    expect(() => emitIndexSql(badOp, TABLE, sqliteDialect)).toThrow(IndexStatementError)
    const badCollate = {
      ...good,
      columns: [{ name: 'a', collate: 'nocase) WHERE 1; --' }],
    } as unknown as IndexStatement
    expect(() => formatIndexStatement(badCollate, TABLE)).toThrow(IndexStatementError)
    expect(() => emitIndexSql(badCollate, TABLE, postgresDialect)).toThrow(IndexStatementError)
  })

  it('renders string literals with quotes doubled through the dialect', () => {
    const stmt = parseIndexStatement("CREATE INDEX i ON t (a) WHERE a = '''); DROP TABLE users; --'")
    expect(emitIndexSql(stmt, TABLE, sqliteDialect)).toBe(
      `CREATE INDEX "i" ON "users" ("a") WHERE "a" = '''); DROP TABLE users; --'`,
    )
  })
})

describe('validateIndexColumns / normalizeColumnCase', () => {
  const stmt = parseIndexStatement(
    "CREATE INDEX i ON t (email, Name DESC) WHERE (nope = 1 OR NOT email IS NULL) AND other != '' AND nope > 2",
  )

  it('lists unknown columns from the column list and WHERE, once each, in order', () => {
    expect(validateIndexColumns(stmt, new Set(['email', 'name', 'other']))).toEqual(['Name', 'nope'])
    expect(validateIndexColumns(stmt, new Set(['email', 'Name', 'other', 'nope']))).toEqual([])
    expect(validateIndexColumns(stmt, new Set())).toEqual(['email', 'Name', 'nope', 'other'])
  })

  it('adopts the schema spelling of column names', () => {
    const fixed = normalizeColumnCase(stmt, ['EMAIL', 'name', 'other'])
    expect(Object.isFrozen(fixed)).toBe(true)
    expect(validateIndexColumns(fixed, new Set(['EMAIL', 'name', 'other']))).toEqual(['nope'])
    expect(formatIndexStatement(fixed, 't')).toBe(
      "CREATE INDEX `i` ON `t` (`EMAIL`, `name` DESC) WHERE (`nope` = 1 OR NOT (`EMAIL` IS NULL)) AND `other` != '' AND `nope` > 2",
    )
  })
})

// ---------------------------------------------------------------------------------------------
// The emitted SQL runs on real databases.

const TABLE_COLUMNS: [string, ColumnKind][] = [
  ['email', 'text'],
  ['name', 'text'],
  ['tokenKey', 'text'],
  ['verified', 'bool'],
  ['age', 'number'],
  ['meta', 'json'],
  ...cols(MAX_INDEX_COLUMNS).map((c): [string, ColumnKind] => [c, 'text']),
]

function createTableSql(d: GalleyDialect): string {
  const defs = [
    `${d.quoteIdentifier('id')} ${d.columnDefinition('text', { primaryKey: true })}`,
    ...TABLE_COLUMNS.map(([name, kind]) => `${d.quoteIdentifier(name)} ${d.columnDefinition(kind)}`),
  ]
  return `CREATE TABLE ${d.quoteIdentifier(TABLE)} (${defs.join(', ')})`
}

type Row = Partial<Record<'email' | 'name' | 'verified', string | boolean>>

/** Indexes whose effect is checked: rows of each `ok` group coexist, the last row of a `conflict` group fails. */
const BEHAVIOUR: { input: string; ok: Row[][]; conflict: Row[][] }[] = [
  {
    input: "CREATE UNIQUE INDEX b_email ON x (email COLLATE NOCASE) WHERE email != ''",
    ok: [
      [{ email: '' }, { email: '' }],
      [{ email: 'a@x.io' }, { email: 'b@x.io' }],
    ],
    conflict: [[{ email: 'A@x.io' }, { email: 'a@X.IO' }]],
  },
  {
    input: 'CREATE UNIQUE INDEX b_rtrim ON x (name COLLATE RTRIM)',
    ok: [[{ name: 'bob' }, { name: ' bob' }]],
    conflict: [[{ name: 'bob' }, { name: 'bob  ' }]],
  },
  {
    input: 'CREATE UNIQUE INDEX b_bool ON x (name) WHERE verified = TRUE',
    ok: [
      [
        { name: 'n', verified: false },
        { name: 'n', verified: false },
        { name: 'n', verified: true },
      ],
    ],
    conflict: [
      [
        { name: 'n', verified: true },
        { name: 'n', verified: true },
      ],
    ],
  },
  {
    input: "CREATE UNIQUE INDEX b_is ON x (name) WHERE name IS NOT 'anon'",
    ok: [[{ name: 'anon' }, { name: 'anon' }]],
    conflict: [[{ name: 'z' }, { name: 'z' }]],
  },
]

interface Db {
  exec(sql: string): Promise<void>
  insert(row: Row): Promise<void>
}

function insertSql(d: GalleyDialect, row: Row, placeholder: (i: number) => string): [string, unknown[]] {
  const names = ['id', ...Object.keys(row)]
  const kinds = new Map(TABLE_COLUMNS)
  const values = [
    randomBytes(8).toString('hex'),
    ...Object.entries(row).map(([k, v]) => d.encode(kinds.get(k) ?? 'text', v)),
  ]
  const sql = `INSERT INTO ${d.quoteIdentifier(TABLE)} (${names.map((n) => d.quoteIdentifier(n)).join(', ')}) VALUES (${names.map((_, i) => placeholder(i)).join(', ')})`
  return [sql, values]
}

function databaseSuite(d: GalleyDialect, open: () => Promise<Db>): void {
  let db: Db
  beforeAll(async () => {
    db = await open()
    await db.exec(createTableSql(d))
  })

  it.each(VALID)('executes $input', async (c) => {
    const stmt = parseIndexStatement(c.input)
    await db.exec(emitIndexSql(stmt, TABLE, d))
    await db.exec(`DROP INDEX ${d.quoteIdentifier(stmt.name)}`)
  })

  it.each(BEHAVIOUR)('enforces $input', async (c) => {
    const stmt = parseIndexStatement(c.input)
    const reset = async (): Promise<void> => db.exec(`DELETE FROM ${d.quoteIdentifier(TABLE)}`)
    await db.exec(emitIndexSql(stmt, TABLE, d))
    try {
      for (const rows of c.ok) {
        await reset()
        for (const row of rows) await db.insert(row)
      }
      for (const rows of c.conflict) {
        await reset()
        for (const row of rows.slice(0, -1)) await db.insert(row)
        await expect(db.insert(rows.at(-1) as Row)).rejects.toThrow(/unique|duplicate/i)
      }
    } finally {
      await reset()
      await db.exec(`DROP INDEX ${d.quoteIdentifier(stmt.name)}`)
    }
  })
}

describe('on SQLite (in memory)', () => {
  let sqlite: BetterSqlite3.Database
  afterAll(() => sqlite?.close())
  databaseSuite(sqliteDialect, async () => {
    sqlite = new BetterSqlite3(':memory:')
    return {
      exec: async (sql) => void sqlite.exec(sql),
      insert: async (row) => {
        const [sql, values] = insertSql(sqliteDialect, row, () => '?')
        sqlite.prepare(sql).run(...values)
      },
    }
  })
})

const PG_URL = process.env.GALLEY_TEST_PG_URL
const describePg = PG_URL ? describe : describe.skip
describePg(
  PG_URL ? 'on PostgreSQL' : 'on PostgreSQL — SKIPPED: set GALLEY_TEST_PG_URL to run against a real server',
  () => {
    const schema = `galley_idx_${randomBytes(6).toString('hex')}`
    let client: pg.Client | undefined
    afterAll(async () => {
      if (!client) return
      await client.query(`DROP SCHEMA IF EXISTS ${postgresDialect.quoteIdentifier(schema)} CASCADE`)
      await client.end()
    })
    databaseSuite(postgresDialect, async () => {
      const c = new pg.Client({ connectionString: PG_URL })
      client = c
      await c.connect()
      await c.query(`CREATE SCHEMA ${postgresDialect.quoteIdentifier(schema)}`)
      await c.query(`SET search_path TO ${postgresDialect.quoteIdentifier(schema)}`)
      return {
        exec: async (sql) => void (await c.query(sql)),
        insert: async (row) => {
          const [sql, values] = insertSql(postgresDialect, row, (i) => `$${i + 1}`)
          await c.query(sql, values)
        },
      }
    })
  },
)
