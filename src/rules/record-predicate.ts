/**
 * Rules and filters decided in JavaScript for one record whose values are at hand (a realtime event's
 * row image), without a query: the part of the filter language that reads only the record's own
 * single-valued fields, literals and the request (`@request.auth.*`, `@request.context`, ...).
 * Anything else (relations, back-relations, `@collection.*`, JSON paths, multi-valued fields,
 * modifiers, functions, datetime macros, `~`) is not compiled here: the caller asks the database.
 *
 * The values and comparisons are those of the SQL that `compileRecordFilter` builds, which gives
 * SQLite's answers on both databases (pocketbase-api.md §4.2, §4.8): SQLite's storage classes and
 * type affinity, `""` and NULL as one value for `=`, three-valued logic where only TRUE selects. The
 * differential test (differential.test.ts) checks this module against both databases. Its value
 * model repeats part of the reference evaluator's on purpose: that one is a test oracle written
 * from the spec, kept independent of the code it judges.
 */
import {
  baseOp,
  FilterError,
  parseFilter,
  type BaseCompareOp,
  type FilterNode,
  type LiteralValue,
  type OperandNode,
} from '../filter/index.js'
import { columnKind, type Collection, type Field } from '../schema/index.js'
import { fieldByName, isMultiple } from './field-values.js'
import type { RequestContext, RuleEnv } from './request-context.js'
import { PLAIN_AUTH_FIELDS } from './request-fields.js'
import { lookup, snakeHeaders } from './request-values.js'

/** A row in its JSON form (as the API outputs it, hidden fields included). */
export type RecordImage = Readonly<Record<string, unknown>>

/** Whether the rule selects `record` for `request`. */
export type RecordPredicate = (record: RecordImage, request: RequestContext, env: PredicateEnv) => boolean

/** What a predicate needs besides the record and the request. */
export type PredicateEnv = Pick<RuleEnv, 'dialect'>

/** A value as SQLite holds it. */
type Sql = null | number | string
type Affinity = 'text' | 'numeric' | 'none'

/** An operand's value: `lit` for bound parameters (literals, request values), PocketBase's "known" values. */
interface Val {
  readonly v: Sql
  readonly aff: Affinity
  readonly lit?: boolean
}

type Truth = boolean | null
type Operand = (record: RecordImage, request: RequestContext, env: PredicateEnv) => Val
type Node = (record: RecordImage, request: RequestContext, env: PredicateEnv) => Truth

/** Thrown while compiling: this part of the filter needs the database. */
class Unsupported extends Error {}

const NULL: Val = { v: null, aff: 'none', lit: true }
const lit = (v: Sql): Val => ({ v, aff: 'none', lit: true })

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

/** NUMERIC affinity: a text that is a well-formed number becomes that number. */
const toNumeric = (v: Sql): Sql => (typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v)
/** TEXT affinity: a number becomes its text. */
const toText = (v: Sql): Sql => (typeof v === 'number' ? String(v) : v)

/** SQLite's conversions before a comparison (datatype3.html §4.2). */
function convert(a: Val, b: Val): [Sql, Sql] {
  if (a.aff === 'numeric' && b.aff !== 'numeric') return [a.v, toNumeric(b.v)]
  if (b.aff === 'numeric' && a.aff !== 'numeric') return [toNumeric(a.v), b.v]
  if (a.aff === 'text' && b.aff === 'none') return [a.v, toText(b.v)]
  if (b.aff === 'text' && a.aff === 'none') return [toText(a.v), b.v]
  return [a.v, b.v]
}

/** Storage-class order (NULL excluded): numbers before texts; texts by UTF-8 bytes (BINARY). */
function order(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'number') return -1
  if (typeof b === 'number') return 1
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

function compareSql(op: '=' | '<' | '<=' | '>' | '>=', a: Val, b: Val): Truth {
  const [x, y] = convert(a, b)
  if (x === null || y === null) return null
  const c = order(x, y)
  return op === '=' ? c === 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0
}

/** `a IS b`: NULL-safe equality. */
function isSame(a: Val, b: Val): boolean {
  const [x, y] = convert(a, b)
  if (x === null || y === null) return x === y
  return order(x, y) === 0
}

const and = (ts: Truth[]): Truth => (ts.includes(false) ? false : ts.includes(null) ? null : true)
const or = (ts: Truth[]): Truth => (ts.includes(true) ? true : ts.includes(null) ? null : false)

/** A comparison of two single values with PocketBase's SQL (§4.2: resolveEqualExpr), three-valued. */
function compareValues(op: BaseCompareOp, l: Val, r: Val): Truth {
  if (op === '~' || op === '!~') throw new Unsupported()
  if (op !== '=' && op !== '!=') return compareSql(op, l, r)
  const eq = op === '='
  const empty = (x: Val) => x.lit === true && (x.v === null || x.v === '')
  const known = (x: Val) => x.lit === true && !empty(x)
  const blank: Val = { v: '', aff: 'none', lit: true }
  if (empty(l) && empty(r)) return eq
  if (known(l) || known(r)) {
    const a = empty(l) ? blank : l
    const b = empty(r) ? blank : r
    return eq ? compareSql('=', a, b) : !isSame(a, b)
  }
  if (empty(l) || empty(r)) {
    const x = empty(l) ? r : l
    return eq ? or([compareSql('=', x, blank), x.v === null]) : and([!isSame(x, blank), x.v !== null])
  }
  // COALESCE(a, '') = COALESCE(b, ''): values without affinity
  const a: Val = { v: l.v ?? '', aff: 'none' }
  const b: Val = { v: r.v ?? '', aff: 'none' }
  return eq ? compareSql('=', a, b) : !isSame(a, b)
}

/** A request value as a bound parameter: booleans 1/0, arrays and objects as their JSON text. */
function requestLiteral(v: unknown): Sql {
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v === 'string') return v
  return JSON.stringify(v) ?? null
}

function literal(v: LiteralValue): Val {
  return lit(typeof v === 'boolean' ? (v ? 1 : 0) : v)
}

/** Field types read as one plain column (single-valued, not JSON). */
const PLAIN_TYPES: ReadonlySet<string> = new Set([
  'text',
  'email',
  'url',
  'editor',
  'number',
  'bool',
  'date',
  'autodate',
  'select',
  'relation',
  'file',
])

/** A field whose column the filter reads as it is, or undefined. */
function plainField(c: Collection, name: string): Field | undefined {
  const f = fieldByName(c, name)
  return f && PLAIN_TYPES.has(f.type) && !isMultiple(f) ? f : undefined
}

/** A field's value (JSON form) as the filter reads its column. */
function column(f: Field, v: unknown): Val {
  if (v === null) return { v: null, aff: f.type === 'number' || f.type === 'bool' ? 'numeric' : 'text' }
  if (f.type === 'number') return { v: v === undefined ? 0 : Number(v), aff: 'numeric' }
  if (f.type === 'bool') return { v: v === true ? 1 : 0, aff: 'numeric' }
  return { v: v === undefined ? '' : String(v), aff: 'text' }
}

function authOperand(name: string): Operand {
  if (PLAIN_AUTH_FIELDS.has(name))
    return (_record, request, env) => {
      const auth = request.auth
      if (!auth) return NULL
      switch (name) {
        case 'collectionId':
          return lit(auth.collection.id)
        case 'collectionName':
          return lit(auth.collection.name)
        case 'emailVisibility':
        case 'verified':
          return lit(requestLiteral(env.dialect.decode('bool', auth.record[name])))
        default:
          return lit(requestLiteral(auth.record[name] ?? ''))
      }
    }
  // another field of the auth record: SQL joins the stored record and reads its column
  return (_record, request, env) => {
    const auth = request.auth
    if (!auth) return NULL
    const f = fieldByName(auth.collection, name)
    // a field its collection lacks, or one read another way: decided by the database
    if (!f || !PLAIN_TYPES.has(f.type) || isMultiple(f)) throw new Unsupported()
    return column(f, env.dialect.decode(columnKind(f), auth.record[f.name]))
  }
}

function operand(node: OperandNode, c: Collection, privileged: boolean): Operand {
  if (node.kind === 'Literal') {
    const v = literal(node.value)
    return () => v
  }
  if (node.kind !== 'Identifier' || node.modifier !== undefined) throw new Unsupported()
  const parts = node.path.split('.')
  if (parts[0] === '@request') {
    const [, section, ...keys] = parts
    if (keys.length === 0 && (section === 'context' || section === 'method'))
      return (_r, request) => lit(requestLiteral(request[section]))
    if (keys.length === 0) throw new Unsupported()
    if (section === 'query') return (_r, request) => lit(requestLiteral(lookup(request.query, keys).value))
    if (section === 'headers')
      return (_r, request) => lit(requestLiteral(lookup(snakeHeaders(request.headers), keys).value))
    if (section === 'auth' && keys.length === 1) return authOperand(keys[0]!)
    throw new Unsupported()
  }
  if (parts.length !== 1) throw new Unsupported()
  const f = plainField(c, node.path)
  // unknown or hidden for a client, and auth emails a client reads only where shown: the database's
  if (!f || (!privileged && (f.hidden || (c.type === 'auth' && f.name === 'email')))) throw new Unsupported()
  return (record) => column(f, record[f.name])
}

function compile(node: FilterNode, c: Collection, privileged: boolean): Node {
  switch (node.kind) {
    case 'And': {
      const parts = node.operands.map((n) => compile(n, c, privileged))
      return (r, q, e) => and(parts.map((p) => p(r, q, e)))
    }
    case 'Or': {
      const parts = node.operands.map((n) => compile(n, c, privileged))
      return (r, q, e) => or(parts.map((p) => p(r, q, e)))
    }
    case 'Compare': {
      const op = baseOp(node.op)
      if (op === '~' || op === '!~') throw new Unsupported()
      const left = operand(node.left, c, privileged)
      const right = operand(node.right, c, privileged)
      return (r, q, e) => compareValues(op, left(r, q, e), right(r, q, e))
    }
  }
}

const cache = new WeakMap<Collection, Map<string, RecordPredicate | null>>()

/**
 * `text` (a rule when `privileged`, else a client filter) of collection `c` as a predicate over one
 * record, or undefined when deciding it needs the database (or it does not parse: the database path
 * reports that). Cached per collection object (a schema change replaces the object). A predicate
 * that meets a value it cannot decide (an auth collection's field read another way) throws
 * `RecordPredicateUnsupported`: the caller then asks the database.
 *
 * @example
 * const p = compileRecordPredicate('public = true || owner = @request.auth.id', posts, true)
 * p?.(image, request, { dialect }) // true or false; undefined: use SQL
 */
export function compileRecordPredicate(
  text: string,
  c: Collection,
  privileged: boolean,
): RecordPredicate | undefined {
  let forCollection = cache.get(c)
  if (!forCollection) cache.set(c, (forCollection = new Map()))
  const key = `${privileged ? 'r' : 'f'}${text}`
  const hit = forCollection.get(key)
  if (hit !== undefined) return hit ?? undefined
  let predicate: RecordPredicate | null = null
  try {
    const ast = parseFilter(text)
    if (ast !== undefined) {
      const node = compile(ast, c, privileged)
      predicate = (record, request, env) => node(record, request, env) === true
    }
  } catch (err) {
    if (!(err instanceof Unsupported) && !(err instanceof FilterError)) throw err
  }
  // bounded: a client's filter options are many; rules are few
  if (forCollection.size >= 1000) forCollection.clear()
  forCollection.set(key, predicate)
  return predicate ?? undefined
}

export { Unsupported as RecordPredicateUnsupported }
