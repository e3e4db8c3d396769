/**
 * Collection `indexes`: user-written SQLite-style `CREATE INDEX` statements. They are never executed
 * as written: `parseIndexStatement` turns one into a small frozen AST (or throws), `formatIndexStatement`
 * gives the canonical text stored in the collection, and `emitIndexSql` renders DDL for a dialect with
 * every identifier and literal going through the dialect's `quoteIdentifier` / `literal`.
 *
 * Grammar (keywords are case-insensitive; identifiers are bare `[A-Za-z_]\w*` or quoted with
 * backticks, double quotes or square brackets, and must be `^\w+$` once unquoted):
 *
 *   CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table
 *     ( col [COLLATE NOCASE|BINARY|RTRIM] [ASC|DESC] [, ...] ) [WHERE expr] [;]
 *   expr    := and (OR and)*
 *   and     := not (AND not)*
 *   not     := NOT not | '(' expr ')' | col op literal | literal op col | col IS [NOT] literal
 *   op      := = | == | != | <> | < | <= | > | >=
 *   literal := 'string' ('' escapes a quote) | [+-]digits[.digits] | TRUE | FALSE | NULL
 *
 * Decisions:
 * - `IF NOT EXISTS` is accepted and dropped: table sync decides what exists, and two statements that
 *   differ only by it are the same index.
 * - `COLLATE NOCASE` renders through `dialect.caseInsensitiveIndexColumn` (SQLite: the collation;
 *   PostgreSQL: `lower(col)`). `BINARY` is the default collation of Galley's columns on both databases,
 *   so it renders as the plain column. `RTRIM` renders as the expression `rtrim(col)` on every dialect:
 *   for text it gives the same uniqueness as SQLite's RTRIM collation (trailing spaces ignored), works
 *   on PostgreSQL, and keeps this module free of dialect checks. The canonical text keeps `COLLATE x`.
 * - Booleans render as `TRUE` / `FALSE` (SQLite >= 3.23 and PostgreSQL both accept them).
 * - `col IS [NOT] NULL|TRUE|FALSE` render as such; `col IS [NOT] 'x'|1` (SQLite's null-safe equality)
 *   render as `IS [NOT] DISTINCT FROM`, which both databases accept (SQLite >= 3.39).
 * - A comparison written literal-first is stored column-first with the operator mirrored; `==` is
 *   stored as `=` and `<>` as `!=`.
 * - Column names are matched exactly (PostgreSQL quoted identifiers are case-sensitive); use
 *   `normalizeColumnCase` to adopt the schema's spelling before validating.
 */
import type { GalleyDialect } from '../db/index.js'
import { MAX_COLLECTION_NAME_LENGTH, MAX_FIELD_NAME_LENGTH, MAX_INDEX_LENGTH } from '../lib/index.js'

/** Longest accepted index statement, in characters. */
export const MAX_INDEX_STATEMENT_LENGTH = MAX_INDEX_LENGTH
/** Longest index or column name, in characters. */
export const MAX_INDEX_NAME_LENGTH = MAX_FIELD_NAME_LENGTH
/** Most columns in one index. */
export const MAX_INDEX_COLUMNS = 32
/** Deepest nesting of parentheses and NOT in a WHERE clause. */
export const MAX_INDEX_WHERE_DEPTH = 32

export type IndexCollation = 'nocase' | 'binary' | 'rtrim'
export type IndexDirection = 'asc' | 'desc'
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>='
export type WhereLiteral = string | number | boolean | null

export interface IndexColumn {
  readonly name: string
  readonly collate?: IndexCollation
  readonly direction?: IndexDirection
}

export type WhereExpr =
  | { readonly kind: 'and'; readonly operands: readonly WhereExpr[] }
  | { readonly kind: 'or'; readonly operands: readonly WhereExpr[] }
  | { readonly kind: 'not'; readonly operand: WhereExpr }
  | {
      readonly kind: 'compare'
      readonly column: string
      readonly op: CompareOp
      readonly value: WhereLiteral
    }
  | { readonly kind: 'is'; readonly column: string; readonly negated: boolean; readonly value: WhereLiteral }

export interface IndexStatement {
  readonly unique: boolean
  readonly name: string
  readonly table: string
  readonly columns: readonly IndexColumn[]
  readonly where?: WhereExpr
}

/** A statement that is not a valid index definition; `position` is the 0-based character offset. */
export class IndexStatementError extends Error {
  readonly position: number
  constructor(message: string, position: number) {
    super(`${message} at ${position}`)
    this.name = 'IndexStatementError'
    this.position = position
  }
}

type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'punct' | 'op' | 'end'
interface Token {
  readonly kind: TokenKind
  readonly text: string
  readonly pos: number
  readonly value?: string | number
}

const NAME_RE = /^\w+$/
const OPS = ['==', '!=', '<>', '<=', '>=', '=', '<', '>']
const CLOSING: Record<string, string> = { '`': '`', '"': '"', '[': ']' }
const MIRROR: Record<CompareOp, CompareOp> = {
  '=': '=',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
}
/** Words that are never taken as bare identifiers (quote them to use such a name). */
const RESERVED = new Set(
  (
    'CREATE UNIQUE INDEX IF NOT EXISTS ON COLLATE ASC DESC WHERE AND OR IS NULL TRUE FALSE SELECT FROM ' +
    'TABLE DROP INSERT UPDATE DELETE UNION ATTACH DETACH PRAGMA VALUES WITH CASE WHEN THEN ELSE END ' +
    'LIKE GLOB IN BETWEEN CAST ESCAPE MATCH REGEXP'
  ).split(' '),
)

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i] as string
    const start = i
    if (/[ \t\r\n\f]/.test(c)) {
      i++
    } else if (text.startsWith('--', i) || text.startsWith('/*', i)) {
      throw new IndexStatementError('comments are not allowed', i)
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^\w+/.exec(text.slice(i)) as RegExpExecArray
      i += m[0].length
      tokens.push({ kind: 'word', text: m[0], pos: start })
    } else if (/[0-9]/.test(c) || (/[+-]/.test(c) && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^[+-]?\d+(\.\d+)?/.exec(text.slice(i)) as RegExpExecArray
      i += m[0].length
      if (/[\w.]/.test(text[i] ?? '')) throw new IndexStatementError('invalid number', start)
      const value = Number(m[0])
      if (!Number.isFinite(value) || (m[1] === undefined && !Number.isSafeInteger(value))) {
        throw new IndexStatementError('number out of range', start)
      }
      tokens.push({ kind: 'number', text: m[0], pos: start, value: value + 0 }) // -0 is 0
    } else if (c === "'") {
      let value = ''
      for (i++; ; i++) {
        if (i >= text.length) throw new IndexStatementError('unterminated string', start)
        if (text[i] === "'") {
          if (text[i + 1] !== "'") break
          i++
        }
        value += text[i]
      }
      i++
      tokens.push({ kind: 'string', text: text.slice(start, i), pos: start, value })
    } else if (c in CLOSING) {
      const end = text.indexOf(CLOSING[c] as string, i + 1)
      if (end < 0) throw new IndexStatementError('unterminated quoted identifier', start)
      i = end + 1
      tokens.push({
        kind: 'ident',
        text: text.slice(start, i),
        pos: start,
        value: text.slice(start + 1, end),
      })
    } else if ('(),;'.includes(c)) {
      i++
      tokens.push({ kind: 'punct', text: c, pos: start })
    } else {
      const op = OPS.find((o) => text.startsWith(o, i))
      if (op === undefined) throw new IndexStatementError(`unexpected character ${JSON.stringify(c)}`, i)
      i += op.length
      tokens.push({ kind: 'op', text: op, pos: start })
    }
  }
  tokens.push({ kind: 'end', text: '', pos: text.length })
  return tokens
}

class Parser {
  private i = 0
  constructor(private readonly tokens: readonly Token[]) {}

  private get tok(): Token {
    return this.tokens[this.i] as Token
  }

  private fail(tok: Token = this.tok): never {
    if (tok.kind === 'end') throw new IndexStatementError('unexpected end of statement', tok.pos)
    const shown = tok.text.length > 24 ? `${tok.text.slice(0, 24)}…` : tok.text
    throw new IndexStatementError(`unexpected ${JSON.stringify(shown)}`, tok.pos)
  }

  private isKw(kw: string): boolean {
    return this.tok.kind === 'word' && this.tok.text.toUpperCase() === kw
  }

  private acceptKw(kw: string): boolean {
    if (!this.isKw(kw)) return false
    this.i++
    return true
  }

  private expectKw(kw: string): void {
    if (!this.acceptKw(kw)) this.fail()
  }

  private accept(kind: TokenKind, text: string): boolean {
    if (this.tok.kind !== kind || this.tok.text !== text) return false
    this.i++
    return true
  }

  private expect(kind: TokenKind, text: string): void {
    if (!this.accept(kind, text)) this.fail()
  }

  private isName(): boolean {
    const t = this.tok
    return t.kind === 'ident' || (t.kind === 'word' && !RESERVED.has(t.text.toUpperCase()))
  }

  private name(what: string, max: number): string {
    const t = this.tok
    if (!this.isName()) this.fail()
    const name = t.kind === 'ident' ? (t.value as string) : t.text
    if (!NAME_RE.test(name)) throw new IndexStatementError(`invalid ${what}`, t.pos)
    if (name.length > max) throw new IndexStatementError(`${what} is longer than ${max} characters`, t.pos)
    this.i++
    return name
  }

  statement(): IndexStatement {
    this.expectKw('CREATE')
    const unique = this.acceptKw('UNIQUE')
    this.expectKw('INDEX')
    if (this.acceptKw('IF')) {
      this.expectKw('NOT')
      this.expectKw('EXISTS')
    }
    const name = this.name('index name', MAX_INDEX_NAME_LENGTH)
    this.expectKw('ON')
    const table = this.name('table name', MAX_COLLECTION_NAME_LENGTH)
    this.expect('punct', '(')
    const columns: IndexColumn[] = []
    do {
      if (columns.length === MAX_INDEX_COLUMNS) {
        throw new IndexStatementError(`an index has at most ${MAX_INDEX_COLUMNS} columns`, this.tok.pos)
      }
      columns.push(this.column())
    } while (this.accept('punct', ','))
    this.expect('punct', ')')
    const where = this.acceptKw('WHERE') ? this.or(0) : undefined
    this.accept('punct', ';')
    if (this.tok.kind !== 'end') this.fail()
    return where === undefined ? { unique, name, table, columns } : { unique, name, table, columns, where }
  }

  private column(): IndexColumn {
    const name = this.name('column name', MAX_INDEX_NAME_LENGTH)
    let collate: IndexCollation | undefined
    if (this.acceptKw('COLLATE')) {
      const t = this.tok
      const c = t.kind === 'word' || t.kind === 'ident' ? String(t.value ?? t.text).toLowerCase() : ''
      if (c !== 'nocase' && c !== 'binary' && c !== 'rtrim') this.fail()
      collate = c
      this.i++
    }
    const direction = this.acceptKw('ASC') ? 'asc' : this.acceptKw('DESC') ? 'desc' : undefined
    return { name, ...(collate && { collate }), ...(direction && { direction }) }
  }

  private or(depth: number): WhereExpr {
    const operands = [this.and(depth)]
    while (this.acceptKw('OR')) operands.push(this.and(depth))
    return operands.length === 1 ? (operands[0] as WhereExpr) : { kind: 'or', operands }
  }

  private and(depth: number): WhereExpr {
    const operands = [this.not(depth)]
    while (this.acceptKw('AND')) operands.push(this.not(depth))
    return operands.length === 1 ? (operands[0] as WhereExpr) : { kind: 'and', operands }
  }

  private nest(depth: number): number {
    if (depth >= MAX_INDEX_WHERE_DEPTH) {
      throw new IndexStatementError(
        `WHERE is nested deeper than ${MAX_INDEX_WHERE_DEPTH} levels`,
        this.tok.pos,
      )
    }
    this.i++
    return depth + 1
  }

  private not(depth: number): WhereExpr {
    if (this.isKw('NOT')) return { kind: 'not', operand: this.not(this.nest(depth)) }
    if (this.tok.kind === 'punct' && this.tok.text === '(') {
      const inner = this.or(this.nest(depth))
      this.expect('punct', ')')
      return inner
    }
    if (this.isName()) {
      const column = this.name('column name', MAX_INDEX_NAME_LENGTH)
      if (this.acceptKw('IS')) {
        const negated = this.acceptKw('NOT')
        return { kind: 'is', column, negated, value: this.literal() }
      }
      const op = this.op()
      return { kind: 'compare', column, op, value: this.literal() }
    }
    const value = this.literal()
    const op = this.op()
    return { kind: 'compare', column: this.name('column name', MAX_INDEX_NAME_LENGTH), op: MIRROR[op], value }
  }

  private op(): CompareOp {
    const t = this.tok
    if (t.kind !== 'op') this.fail()
    this.i++
    return t.text === '==' ? '=' : t.text === '<>' ? '!=' : (t.text as CompareOp)
  }

  private literal(): WhereLiteral {
    const t = this.tok
    let value: WhereLiteral
    if (t.kind === 'string' || t.kind === 'number') value = t.value as string | number
    else if (this.isKw('TRUE')) value = true
    else if (this.isKw('FALSE')) value = false
    else if (this.isKw('NULL')) value = null
    else this.fail()
    this.i++
    return value
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}

/** Parses one user-written index statement into a frozen AST; throws `IndexStatementError`. */
export function parseIndexStatement(text: string): IndexStatement {
  if (typeof text !== 'string') throw new IndexStatementError('index statement must be a string', 0)
  if (text.length > MAX_INDEX_STATEMENT_LENGTH) {
    throw new IndexStatementError(
      `index statement is longer than ${MAX_INDEX_STATEMENT_LENGTH} characters`,
      MAX_INDEX_STATEMENT_LENGTH,
    )
  }
  const nul = text.indexOf('\0')
  if (nul >= 0) throw new IndexStatementError('NUL byte', nul)
  return deepFreeze(new Parser(tokenize(text)).statement())
}

interface Render {
  ident(name: string): string
  literal(value: WhereLiteral): string
  column(col: IndexColumn, quoted: string): string
  is(negated: boolean, value: WhereLiteral): string
}

function checkName(name: string): string {
  if (!NAME_RE.test(name)) throw new IndexStatementError(`invalid identifier ${JSON.stringify(name)}`, 0)
  return name
}

function renderStatement(stmt: IndexStatement, table: string, r: Render): string {
  const cols = stmt.columns.map((c) => {
    if (
      ![undefined, 'nocase', 'binary', 'rtrim'].includes(c.collate) ||
      ![undefined, 'asc', 'desc'].includes(c.direction)
    ) {
      throw new IndexStatementError(`invalid collation or direction of ${JSON.stringify(c.name)}`, 0)
    }
    const col = r.column(c, r.ident(c.name))
    return c.direction ? `${col} ${c.direction.toUpperCase()}` : col
  })
  const expr = (e: WhereExpr, nested: boolean): string => {
    switch (e.kind) {
      case 'and':
      case 'or': {
        const s = e.operands.map((o) => expr(o, true)).join(e.kind === 'and' ? ' AND ' : ' OR ')
        return nested ? `(${s})` : s
      }
      case 'not':
        return `NOT (${expr(e.operand, false)})`
      case 'compare':
        if (!(e.op in MIRROR)) throw new IndexStatementError(`invalid operator ${JSON.stringify(e.op)}`, 0)
        return `${r.ident(e.column)} ${e.op} ${r.literal(e.value)}`
      case 'is':
        return `${r.ident(e.column)} ${r.is(e.negated, e.value)}`
    }
  }
  const head = `CREATE ${stmt.unique ? 'UNIQUE ' : ''}INDEX ${r.ident(stmt.name)} ON ${r.ident(table)}`
  const where = stmt.where ? ` WHERE ${expr(stmt.where, false)}` : ''
  return `${head} (${cols.join(', ')})${where}`
}

function sqliteLiteral(value: WhereLiteral): string {
  if (value === null) return 'NULL'
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (typeof value === 'number') return String(value)
  return `'${value.replace(/'/g, "''")}'`
}

/** The canonical text stored in the collection (SQLite, backtick-quoted), for the collection `table`. */
export function formatIndexStatement(stmt: IndexStatement, table: string): string {
  return renderStatement(stmt, table, {
    ident: (name) => `\`${checkName(name)}\``,
    literal: sqliteLiteral,
    column: (c, quoted) => (c.collate ? `${quoted} COLLATE ${c.collate.toUpperCase()}` : quoted),
    is: (negated, value) => `IS ${negated ? 'NOT ' : ''}${sqliteLiteral(value)}`,
  })
}

/** The DDL creating the index on the collection's table `table` for `dialect`. */
export function emitIndexSql(stmt: IndexStatement, table: string, dialect: GalleyDialect): string {
  return renderStatement(stmt, table, {
    ident: (name) => dialect.quoteIdentifier(checkName(name)),
    literal: (value) => dialect.literal(value),
    column: (c, quoted) =>
      c.collate === 'nocase'
        ? dialect.caseInsensitiveIndexColumn(quoted)
        : c.collate === 'rtrim'
          ? `rtrim(${quoted})`
          : quoted,
    is: (negated, value) =>
      value === null || typeof value === 'boolean'
        ? `IS ${negated ? 'NOT ' : ''}${dialect.literal(value)}`
        : `IS ${negated ? '' : 'NOT '}DISTINCT FROM ${dialect.literal(value)}`,
  })
}

function whereColumns(e: WhereExpr | undefined, out: string[]): string[] {
  if (e === undefined) return out
  if (e.kind === 'and' || e.kind === 'or') e.operands.forEach((o) => whereColumns(o, out))
  else if (e.kind === 'not') whereColumns(e.operand, out)
  else out.push(e.column)
  return out
}

/** The column names (indexed or in WHERE) not in `allowedColumns`, each once, in order of appearance. */
export function validateIndexColumns(stmt: IndexStatement, allowedColumns: ReadonlySet<string>): string[] {
  const names = whereColumns(
    stmt.where,
    stmt.columns.map((c) => c.name),
  )
  return [...new Set(names.filter((n) => !allowedColumns.has(n)))]
}

/** A copy of `stmt` whose column names use the spelling of `columns` where they match case-insensitively. */
export function normalizeColumnCase(stmt: IndexStatement, columns: Iterable<string>): IndexStatement {
  const byLower = new Map<string, string>()
  for (const c of columns) byLower.set(c.toLowerCase(), c)
  const fix = (n: string): string => byLower.get(n.toLowerCase()) ?? n
  const expr = (e: WhereExpr): WhereExpr =>
    e.kind === 'and' || e.kind === 'or'
      ? { kind: e.kind, operands: e.operands.map(expr) }
      : e.kind === 'not'
        ? { kind: 'not', operand: expr(e.operand) }
        : { ...e, column: fix(e.column) }
  const out: IndexStatement = {
    ...stmt,
    columns: stmt.columns.map((c) => ({ ...c, name: fix(c.name) })),
    ...(stmt.where && { where: expr(stmt.where) }),
  }
  return deepFreeze(out)
}
