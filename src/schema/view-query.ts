/**
 * A small reader of view queries (pocketbase-api.md §6.6): enough of SQL's lexical grammar (SQLite
 * and PostgreSQL) to find the outer SELECT's columns, their aliases and the tables of its FROM
 * clause. It is never what makes a query safe — the database parses and checks the query itself
 * (`Database.describeSelect`) — it only tells how a column was written, for field inference.
 */

/** Longest accepted `viewQuery` (and dry-run query), PocketBase's dry-run limit. */
export const MAX_VIEW_QUERY_LENGTH = 5000

export interface Token {
  readonly kind: 'word' | 'ident' | 'string' | 'number' | 'param' | 'op'
  /** word: lower-cased; ident: the unquoted name; others: the text as written. */
  readonly value: string
}

/** One item of the select list: its expression's tokens and its alias, if written. */
export interface SelectItem {
  readonly tokens: readonly Token[]
  readonly alias?: string | undefined
}

/** A table of the FROM clause: `name` is undefined for subqueries and table functions. */
export interface TableRef {
  readonly name?: string | undefined
  readonly alias: string
}

export interface QueryShape {
  /** The outer (first) SELECT's items; undefined when the text could not be read (VALUES, errors). */
  readonly items?: readonly SelectItem[] | undefined
  readonly tables: readonly TableRef[]
  /** Lower-cased names of the query's CTEs: they shadow collections of the same name. */
  readonly ctes: ReadonlySet<string>
}

/** The text as stored for the view: trimmed, without trailing semicolons. */
export function normalizeViewQuery(query: string): string {
  return query.trim().replace(/[\s;]+$/, '')
}

const OPERATORS = ['::', '||', '<=', '>=', '<>', '!=', '==', '->>', '->', '<<', '>>']
const WORD_START = /[A-Za-z_\u0080-\uffff]/
const WORD_PART = /[\w$\u0080-\uffff]/
const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/y
const NUMBER = /(0x[0-9a-f]+|(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?)/iy
const PARAM = /([?]\d*|[:@$][\w]+)/y

/** Words after which `[` opens an identifier (SQLite) rather than a subscript or an array. */
const BRACKET_IDENT_AFTER = new Set(['select', 'distinct', 'all', 'from', 'join', 'as', 'on', 'by', ','])

/** Splits SQL into tokens; comments and whitespace are dropped. Throws on unterminated text. */
export function tokenize(text: string): Token[] {
  const out: Token[] = []
  let i = 0
  const n = text.length
  const quoted = (close: string, escapeDouble: boolean): string => {
    let value = ''
    for (let j = i + 1; j < n; j++) {
      const ch = text[j]!
      if (ch === close) {
        if (escapeDouble && text[j + 1] === close) {
          value += close
          j++
          continue
        }
        i = j + 1
        return value
      }
      value += ch
    }
    throw new Error('unterminated quoted text')
  }
  while (i < n) {
    const ch = text[i]!
    const rest = text.slice(i, i + 3)
    if (/\s/.test(ch)) {
      i++
    } else if (rest.startsWith('--')) {
      const end = text.indexOf('\n', i)
      i = end === -1 ? n : end + 1
    } else if (rest.startsWith('/*')) {
      const end = text.indexOf('*/', i + 2)
      if (end === -1) throw new Error('unterminated comment')
      i = end + 2
    } else if (ch === "'") {
      const start = i
      quoted("'", true)
      out.push({ kind: 'string', value: text.slice(start, i) })
    } else if (ch === '"') {
      out.push({ kind: 'ident', value: quoted('"', true) })
    } else if (ch === '`') {
      out.push({ kind: 'ident', value: quoted('`', true) })
    } else if (ch === '[' && bracketIsIdentifier(out)) {
      out.push({ kind: 'ident', value: quoted(']', false) })
    } else if ((ch === 'e' || ch === 'E') && text[i + 1] === "'") {
      // PostgreSQL escape string: backslash escapes, '' too.
      let j = i + 2
      for (; j < n; j++) {
        if (text[j] === '\\') j++
        else if (text[j] === "'") {
          if (text[j + 1] === "'") j++
          else break
        }
      }
      if (j >= n) throw new Error('unterminated quoted text')
      out.push({ kind: 'string', value: text.slice(i, j + 1) })
      i = j + 1
    } else if (ch === '$' && stickyMatch(DOLLAR_TAG, text, i) !== undefined) {
      const tag = stickyMatch(DOLLAR_TAG, text, i)!
      const end = text.indexOf(tag, i + tag.length)
      if (end === -1) throw new Error('unterminated quoted text')
      out.push({ kind: 'string', value: text.slice(i, end + tag.length) })
      i = end + tag.length
    } else if (WORD_START.test(ch)) {
      let j = i + 1
      while (j < n && WORD_PART.test(text[j]!)) j++
      out.push({ kind: 'word', value: text.slice(i, j).toLowerCase() })
      i = j
    } else if (/[0-9.]/.test(ch) && stickyMatch(NUMBER, text, i) !== undefined) {
      const m = stickyMatch(NUMBER, text, i)!
      out.push({ kind: 'number', value: m })
      i += m.length
    } else if (/[?:@$]/.test(ch) && stickyMatch(PARAM, text, i) !== undefined && !rest.startsWith('::')) {
      const m = stickyMatch(PARAM, text, i)!
      out.push({ kind: 'param', value: m })
      i += m.length
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i)) ?? ch
      out.push({ kind: 'op', value: op })
      i += op.length
    }
  }
  return out
}

/** The match of a sticky regular expression at `at`, without copying the rest of the text. */
function stickyMatch(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at
  return re.exec(text)?.[0]
}

function bracketIsIdentifier(before: readonly Token[]): boolean {
  const last = before[before.length - 1]
  if (!last) return true
  if (last.kind === 'op') return last.value !== ')' && last.value !== ']'
  return last.kind === 'word' && BRACKET_IDENT_AFTER.has(last.value)
}

const isOp = (t: Token | undefined, op: string): boolean => t?.kind === 'op' && t.value === op
const isWord = (t: Token | undefined, ...words: string[]): boolean =>
  t?.kind === 'word' && words.includes(t.value)
const isName = (t: Token | undefined): t is Token => t?.kind === 'word' || t?.kind === 'ident'

/** Index of the token closing the bracket opened at `open` (or -1). */
export function closingIndex(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i]!
    if (isOp(t, '(') || isOp(t, '[')) depth++
    else if (isOp(t, ')') || isOp(t, ']')) {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}

/** The tokens from `start`, at bracket depth 0, up to the first word of `stop` (exclusive). */
function clause(tokens: readonly Token[], start: number, stop: ReadonlySet<string>): number {
  let depth = 0
  for (let i = start; i < tokens.length; i++) {
    const t = tokens[i]!
    if (isOp(t, '(') || isOp(t, '[')) depth++
    else if (isOp(t, ')') || isOp(t, ']')) depth--
    else if (depth === 0 && t.kind === 'word' && stop.has(t.value)) return i
    if (depth < 0) return i
  }
  return tokens.length
}

/** Splits `tokens` at depth-0 commas. */
function splitCommas(tokens: readonly Token[]): Token[][] {
  const parts: Token[][] = [[]]
  let depth = 0
  for (const t of tokens) {
    if (isOp(t, '(') || isOp(t, '[')) depth++
    else if (isOp(t, ')') || isOp(t, ']')) depth--
    if (depth === 0 && isOp(t, ',')) parts.push([])
    else parts[parts.length - 1]!.push(t)
  }
  return parts
}

const SELECT_END = new Set([
  'from',
  'where',
  'group',
  'having',
  'window',
  'order',
  'limit',
  'offset',
  'fetch',
  'union',
  'intersect',
  'except',
  'for',
])
const FROM_END = new Set([...SELECT_END].filter((w) => w !== 'from'))
/** Words that follow a table and are never its alias. */
const NOT_ALIAS = new Set([
  'on',
  'using',
  'natural',
  'left',
  'right',
  'full',
  'inner',
  'outer',
  'cross',
  'join',
  'lateral',
  'tablesample',
  'indexed',
  'not',
  ...SELECT_END,
])
/** Words that end an expression, so a name after them is not an alias. */
const EXPRESSION_WORDS = new Set([
  'and',
  'or',
  'not',
  'is',
  'in',
  'like',
  'glob',
  'ilike',
  'between',
  'case',
  'when',
  'then',
  'else',
  'collate',
  'escape',
  'distinct',
  'as',
])

function readItem(tokens: readonly Token[]): SelectItem {
  const n = tokens.length
  const last = tokens[n - 1]
  if (n >= 2 && isName(last) && isWord(tokens[n - 2], 'as'))
    return { tokens: tokens.slice(0, n - 2), alias: aliasName(last) }
  // An implicit alias follows an operand (a name, a literal or a closing bracket).
  const before = tokens[n - 2]
  const operandEnd =
    before !== undefined &&
    ((before.kind === 'word' && !EXPRESSION_WORDS.has(before.value)) ||
      before.kind === 'ident' ||
      before.kind === 'string' ||
      before.kind === 'number' ||
      isOp(before, ')'))
  if (n >= 2 && isName(last) && operandEnd && !(last.kind === 'word' && last.value === 'end'))
    return { tokens: tokens.slice(0, n - 1), alias: aliasName(last) }
  return { tokens }
}

/** An alias as the databases name the column: quoted as written, unquoted words as typed (SQLite). */
const aliasName = (t: Token): string => t.value

/**
 * The tables of a FROM clause: plain tables with their alias, and subqueries or table functions
 * under theirs (their columns are unknown, but their alias hides a table of the same name).
 */
function readTables(tokens: readonly Token[]): TableRef[] {
  const out: TableRef[] = []
  let expectTable = true
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (!expectTable) {
      if (isOp(t, ',') || isWord(t, 'join')) expectTable = true
      else if (isOp(t, '(') || isOp(t, '[')) i = Math.max(i, closingIndex(tokens, i))
      continue
    }
    if (isWord(t, 'lateral', 'only')) continue
    let name: string | undefined
    if (isOp(t, '(')) {
      i = closingIndex(tokens, i)
      if (i < 0) return out
    } else if (isName(t)) {
      name = t.value
      while (isOp(tokens[i + 1], '.') && isName(tokens[i + 2])) {
        name = tokens[i + 2]!.value
        i += 2
      }
      if (isOp(tokens[i + 1], '(')) {
        name = undefined
        i = closingIndex(tokens, i + 1)
        if (i < 0) return out
      }
    } else return out
    let alias = name
    if (isWord(tokens[i + 1], 'as')) i++
    const next = tokens[i + 1]
    if (isName(next) && !(next.kind === 'word' && NOT_ALIAS.has(next.value))) {
      alias = next.value
      i++
    }
    if (alias !== undefined) out.push({ name, alias })
    expectTable = false
  }
  return out
}

/** Reads the outer SELECT of `query`; never throws (an unreadable query has no items). */
export function readQueryShape(query: string): QueryShape {
  let tokens: Token[]
  try {
    tokens = tokenize(query)
  } catch {
    return { tables: [], ctes: new Set() }
  }
  const ctes = new Set<string>()
  let i = 0
  if (isWord(tokens[0], 'with')) {
    i = isWord(tokens[1], 'recursive') ? 2 : 1
    for (;;) {
      const name = tokens[i]
      if (!isName(name)) break
      ctes.add(name.value.toLowerCase())
      i++
      if (isOp(tokens[i], '(')) i = closingIndex(tokens, i) + 1
      if (!isWord(tokens[i], 'as')) break
      i++
      while (isWord(tokens[i], 'not', 'materialized')) i++
      if (!isOp(tokens[i], '(')) break
      i = closingIndex(tokens, i) + 1
      if (i <= 0) break
      if (!isOp(tokens[i], ',')) break
      i++
    }
  }
  if (!isWord(tokens[i], 'select')) return { tables: [], ctes }
  i++
  if (isWord(tokens[i], 'all')) i++
  else if (isWord(tokens[i], 'distinct')) {
    i++
    if (isWord(tokens[i], 'on') && isOp(tokens[i + 1], '(')) i = closingIndex(tokens, i + 1) + 1
  }
  const end = clause(tokens, i, SELECT_END)
  const items = splitCommas(tokens.slice(i, end)).map(readItem)
  let tables: TableRef[] = []
  if (isWord(tokens[end], 'from')) {
    const fromEnd = clause(tokens, end + 1, FROM_END)
    tables = readTables(tokens.slice(end + 1, fromEnd))
  }
  return { items, tables, ctes }
}

/** Whether the item is `*` or `table.*`. */
export function isWildcard(item: SelectItem): boolean {
  const last = item.tokens[item.tokens.length - 1]
  return isOp(last, '*') && (item.tokens.length === 1 || isOp(item.tokens[item.tokens.length - 2], '.'))
}

/** `column` or `table.column` (or `schema.table.column`): the names, else undefined. */
export function columnReference(tokens: readonly Token[]): { table?: string; column: string } | undefined {
  const t = unwrap(tokens)
  if (t.length === 1 && isName(t[0])) return { column: t[0].value }
  if (t.length >= 3 && t.length % 2 === 1 && t.every((x, i) => (i % 2 === 0 ? isName(x) : isOp(x, '.'))))
    return { table: t[t.length - 3]!.value, column: t[t.length - 1]!.value }
  return undefined
}

/** The tokens without brackets around the whole expression: `((count(*)))` -> `count(*)`. */
export function unwrap(tokens: readonly Token[]): readonly Token[] {
  let t = tokens
  while (t.length >= 2 && isOp(t[0], '(') && closingIndex(t, 0) === t.length - 1) t = t.slice(1, -1)
  return t
}

/**
 * The type of an explicit conversion of the whole expression, `CAST(x AS type)` or PostgreSQL's
 * `x::type`, lower-cased without its size (`decimal(10,2)` -> `decimal`); undefined otherwise.
 */
export function castType(tokens: readonly Token[]): string | undefined {
  const t = unwrap(tokens)
  if (isWord(t[0], 'cast') && isOp(t[1], '(') && closingIndex(t, 1) === t.length - 1) {
    const inner = t.slice(2, -1)
    const as = lastTopLevel(inner, (x) => isWord(x, 'as'))
    return as < 0 ? undefined : typeName(inner.slice(as + 1))
  }
  const cast = lastTopLevel(t, (x) => isOp(x, '::'))
  return cast < 0 ? undefined : typeName(t.slice(cast + 1))
}

/** Index of the last token outside any bracket that `match`es, or -1. */
function lastTopLevel(tokens: readonly Token[], match: (t: Token) => boolean): number {
  let found = -1
  let depth = 0
  tokens.forEach((t, i) => {
    if (isOp(t, '(') || isOp(t, '[')) depth++
    else if (isOp(t, ')') || isOp(t, ']')) depth--
    else if (depth === 0 && match(t)) found = i
  })
  return found
}

function typeName(tokens: readonly Token[]): string | undefined {
  const words: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t.kind === 'word' || t.kind === 'ident') words.push(t.value.toLowerCase())
    else if (isOp(t, '(')) {
      // a size: decimal(10, 2), varchar(20)
      i = closingIndex(tokens, i)
      if (i < 0) return undefined
    } else return undefined
  }
  return words.length > 0 ? words.join(' ') : undefined
}

/**
 * The function of a call that starts the expression and is all of it, except for a window or
 * filter clause (`count(*) OVER ()`): lower-cased name, else undefined.
 */
export function aggregateName(tokens: readonly Token[]): string | undefined {
  const t = unwrap(tokens)
  if (!isName(t[0]) || !isOp(t[1], '(')) return undefined
  const close = closingIndex(t, 1)
  if (close < 0) return undefined
  if (close === t.length - 1 || isWord(t[close + 1], 'over', 'filter')) return t[0].value.toLowerCase()
  return undefined
}

/** What a (non-blank) view query is refused for before the database sees it, or undefined. */
export function viewQueryProblem(query: string): string | undefined {
  // A NUL would end the text early in PostgreSQL's protocol messages.
  if (query.includes('\0')) return 'the query must not contain NUL characters'
  if (query.length > MAX_VIEW_QUERY_LENGTH)
    return `the query must be no more than ${MAX_VIEW_QUERY_LENGTH} characters`
  let tokens
  try {
    tokens = tokenize(normalizeViewQuery(query))
  } catch {
    return undefined // the database says what is wrong with it
  }
  const first = tokens[0]
  if (first?.kind !== 'word' || (first.value !== 'select' && first.value !== 'with'))
    return 'only a single SELECT statement is supported'
  // The same words on both databases; the database refuses a second statement by itself anyway.
  if (tokens.some((t) => isOp(t, ';'))) return 'multiple statements are not supported'
  if (readQueryShape(query).items?.some(isWildcard))
    return 'wildcard (*) columns are not supported, list the columns'
  return undefined
}
