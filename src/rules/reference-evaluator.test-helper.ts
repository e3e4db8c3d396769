/**
 * A reference evaluator of record filters, written from pocketbase-api.md §4 (and the choices Galley
 * documents where PocketBase is open), NOT from the compiler: it walks the parsed AST over the
 * fixture's records in memory and gives the ids a rule selects. The differential test checks that
 * SQLite and PostgreSQL select the same.
 *
 * The model is PocketBase's SQL on SQLite, evaluated by hand:
 * - every multi-valued path is a LEFT JOIN into the main query (one NULL row when it has no value);
 *   operands walking the same path see the same row; a record matches when some combination of rows
 *   makes the WHERE true (§4.7);
 * - a plain operator on a multi-valued operand also needs that no value of the operand, taken on its
 *   own rows, makes the comparison false (`NOT EXISTS (... WHERE NOT cond)`); `?` operators skip it;
 * - values are SQLite's: NULL, numbers, texts (booleans 1/0), with the type affinity of where they
 *   come from (a TEXT or NUMERIC column, or none for literals and computed values), compared with
 *   SQLite's conversion rules and storage-class order (§4.8), three-valued;
 * - `=`/`!=` follow PocketBase's resolveEqualExpr: "" and NULL are one value, columns compare through
 *   COALESCE(x, ''), JSON values with IS (§4.2).
 *
 * Galley's documented choices it follows: a number literal next to a text is its shortest text (`10`,
 * where PocketBase binds the REAL 10.0); a match-all `!~` holds for a missing value; `strftime('…')`
 * and the time value 'now' are the request time; geoDistance() clamps the cosine.
 */
import {
  parseFilter,
  type CompareOp,
  type FilterNode,
  type LiteralValue,
  type MacroName,
  type OperandNode,
} from '../filter/index.js'
// eslint-disable-next-line no-restricted-imports -- the reference strftime is a test helper of filter/
import { referenceStrftime } from '../filter/strftime-reference.test-helper.js'
import type { Collection, Field } from '../schema/index.js'

/** A value as SQLite holds it. */
type Sql = null | number | string
type Affinity = 'text' | 'numeric' | 'none'

/** An operand's value on one combination of rows. */
interface Val {
  readonly v: Sql
  readonly aff: Affinity
  /** A bound parameter (literal, `@request.*` value, macro): PocketBase's "known" values. */
  readonly lit?: boolean
  /** A JSON value (json_extract, geoDistance): compared with IS, never through COALESCE. */
  readonly json?: boolean
}

type Truth = boolean | null
type Rec = Readonly<Record<string, unknown>>

export interface ReferenceData {
  readonly find: (idOrName: string) => Collection | undefined
  /** Records by collection name, in their JSON form. */
  readonly rows: Readonly<Record<string, readonly Rec[]>>
}

export interface ReferenceRequest {
  readonly auth?: { readonly collection: string; readonly id: string }
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  readonly query: Readonly<Record<string, string>>
  readonly body: Readonly<Record<string, unknown>>
  readonly context: string
}

const NULL: Val = { v: null, aff: 'none', lit: true }
const lit = (v: Sql): Val => ({ v, aff: 'none', lit: true })

// ------------------------------------------------------------------------------------------------
// SQLite values

const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/

/** NUMERIC affinity: a text that is a well-formed number becomes that number. */
function toNumeric(v: Sql): Sql {
  return typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v
}

/** TEXT affinity: a number becomes its text. */
function toText(v: Sql): Sql {
  return typeof v === 'number' ? String(v) : v
}

/** SQLite's conversions before a comparison (datatype3.html §4.2). */
function convert(a: Val, b: Val): [Sql, Sql] {
  const numeric = (x: Val) => x.aff === 'numeric'
  if (numeric(a) && !numeric(b)) return [a.v, toNumeric(b.v)]
  if (numeric(b) && !numeric(a)) return [toNumeric(a.v), b.v]
  if (a.aff === 'text' && b.aff === 'none') return [a.v, toText(b.v)]
  if (b.aff === 'text' && a.aff === 'none') return [toText(a.v), b.v]
  return [a.v, b.v]
}

/** Storage-class order (NULL excluded): numbers before texts; texts by UTF-8 bytes (BINARY). */
function order(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'number') return -1
  if (typeof b === 'number') return 1
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b as string, 'utf8'))
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

/** The text SQLite's LIKE sees. */
function likeText(v: Sql): string | null {
  return v === null ? null : String(v)
}

/** `value LIKE pattern ESCAPE '\'`, ASCII case-insensitive. */
function like(value: string, pattern: string): boolean {
  const fold = (c: string) => (c >= 'A' && c <= 'Z' ? c.toLowerCase() : c)
  const v = Array.from(value, fold)
  const tokens: ({ any: true } | { one: true } | { ch: string })[] = []
  const p = Array.from(pattern)
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\' && i + 1 < p.length) tokens.push({ ch: fold(p[++i]!) })
    else if (p[i] === '%') tokens.push({ any: true })
    else if (p[i] === '_') tokens.push({ one: true })
    else tokens.push({ ch: fold(p[i]!) })
  }
  const memo = new Map<string, boolean>()
  const match = (i: number, j: number): boolean => {
    const key = `${i},${j}`
    const known = memo.get(key)
    if (known !== undefined) return known
    let r: boolean
    if (j === tokens.length) r = i === v.length
    else {
      const t = tokens[j]!
      if ('any' in t) r = match(i, j + 1) || (i < v.length && match(i + 1, j))
      else if (i === v.length) r = false
      else if ('one' in t) r = match(i + 1, j + 1)
      else r = t.ch === v[i] && match(i + 1, j + 1)
    }
    memo.set(key, r)
    return r
  }
  return match(0, 0)
}

/**
 * PocketBase's wrapLikeParams (§4.2): a literal without an unescaped `%` has its `\`, `%`, `_`
 * escaped (unless already escaped) and is wrapped in `%…%`; otherwise it is the pattern.
 */
function likeLiteral(text: string): string {
  let prev = ''
  let wildcard = false
  for (const c of text) {
    if (c === '%' && prev !== '\\') wildcard = true
    prev = c === '\\' && prev === '\\' ? '' : c
  }
  if (wildcard) return text
  const chars = Array.from(text)
  let out = ''
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === '\\' && i + 1 < chars.length && '\\%_'.includes(chars[i + 1]!)) {
      out += c + chars[++i]!
    } else {
      out += '\\%_'.includes(c) ? `\\${c}` : c
    }
  }
  return `%${out}%`
}

// ------------------------------------------------------------------------------------------------
// Fields and records

const MULTI_VALUERS = new Set(['select', 'relation', 'file'])

const isMultiple = (f: Field) => MULTI_VALUERS.has(f.type) && Number(f.maxSelect ?? 1) > 1

/** A field's value in a record, with the zero value of its type when the record leaves it out. */
function stored(rec: Rec, f: Field): unknown {
  const v = rec[f.name]
  if (v !== undefined) return v
  if (isMultiple(f)) return []
  switch (f.type) {
    case 'number':
      return 0
    case 'bool':
      return false
    case 'json':
      return null
    case 'geoPoint':
      return { lon: 0, lat: 0 }
    default:
      return ''
  }
}

/** A JSON value as json_extract() returns it. */
function fromJson(v: unknown): Sql {
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number' || typeof v === 'string') return v
  return JSON.stringify(v)
}

/** A field of a record (or NULL for a missing record) as the filter reads its column. */
function column(rec: Rec | null, f: Field): Val {
  const json = f.type === 'json' || f.type === 'geoPoint'
  if (rec === null)
    return {
      v: null,
      aff: json ? 'none' : f.type === 'number' || f.type === 'bool' ? 'numeric' : 'text',
      ...(json ? { json: true } : {}),
    }
  const v = stored(rec, f)
  if (json) return { v: fromJson(v), aff: 'none', json: true }
  if (isMultiple(f)) return { v: JSON.stringify(v), aff: 'text' }
  if (f.type === 'number') return { v: Number(v), aff: 'numeric' }
  if (f.type === 'bool') return { v: v ? 1 : 0, aff: 'numeric' }
  return { v: String(v), aff: 'text' }
}

/** The items of a multiple field (`:each`, relation hops). */
function items(rec: Rec, f: Field): unknown[] {
  const v = stored(rec, f)
  if (Array.isArray(v)) return v
  return v === '' || v === null ? [] : [v]
}

/** The value at a JSON path (numeric segments index arrays), undefined when missing. */
function jsonAt(v: unknown, path: readonly string[]): unknown {
  let cur = v
  for (const key of path) {
    if (Array.isArray(cur) && /^\d+$/.test(key)) cur = cur[Number(key)]
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur) && Object.hasOwn(cur, key)) {
      cur = (cur as Record<string, unknown>)[key]
    } else return undefined
  }
  return cur
}

function lower(v: Sql): Sql {
  return v === null ? null : String(v).replace(/[A-Z]/g, (c) => c.toLowerCase())
}

// ------------------------------------------------------------------------------------------------
// Rows: which row each multi-valued path is on

/** Rows chosen so far, by path key; a missing key is decided by the enumeration. */
type Rows = Map<string, number>

/** Thrown when an operand reaches a path whose row is not chosen yet. */
class Choose {
  constructor(
    readonly key: string,
    readonly count: number,
  ) {}
}

/** The chosen row among `candidates` for `key` (a NULL row when there is none, as a LEFT JOIN). */
function pick<T>(rows: Rows, key: string, candidates: readonly T[]): T | null {
  if (candidates.length === 0) return null
  const i = rows.get(key)
  if (i === undefined) throw new Choose(key, candidates.length)
  return candidates[i]!
}

/** Every combination of rows under which `f` can be evaluated, and its results. */
function everyCombination<T>(f: (rows: Rows) => T, start: Rows = new Map()): T[] {
  const out: T[] = []
  const visit = (rows: Rows) => {
    try {
      out.push(f(rows))
    } catch (err) {
      if (!(err instanceof Choose)) throw err
      for (let i = 0; i < err.count; i++) visit(new Map(rows).set(err.key, i))
    }
  }
  visit(start)
  return out
}

// ------------------------------------------------------------------------------------------------
// Operands

/** An operand: its value on some rows; `matchAll` when a plain operator must hold for every value. */
interface Operand {
  value(rows: Rows): Val
  readonly matchAll: boolean
  /** Every value of the operand on its own rows (the match-all check). */
  all(): Val[]
}

const constant = (v: Val): Operand => ({ value: () => v, matchAll: false, all: () => [v] })

/** A record being walked and how its row was reached. */
interface At {
  readonly collection: Collection
  readonly rec: Rec | null
  /** The key of the path so far (rows of paths that share a prefix are shared). */
  readonly key: string
  readonly multi: boolean
}

export class ReferenceEvaluator {
  readonly #data: ReferenceData
  readonly #request: ReferenceRequest
  readonly #now: Date
  readonly #base: Collection

  constructor(base: string, data: ReferenceData, request: ReferenceRequest, now: Date) {
    this.#data = data
    this.#request = request
    this.#now = now
    this.#base = this.#collection(base)
  }

  /** The ids of the base collection's records the filter selects, sorted. */
  ids(filter: string): string[] {
    const ast = parseFilter(filter)
    const all = this.#rows(this.#base)
    const ids =
      ast === undefined
        ? all.map((r) => String(r.id))
        : all.filter((r) => this.#matches(ast, r)).map((r) => String(r.id))
    return ids.sort()
  }

  #collection(idOrName: string): Collection {
    const c = this.#data.find(idOrName)
    if (!c) throw new Error(`no collection ${idOrName}`)
    return c
  }

  #rows(c: Collection): readonly Rec[] {
    return this.#data.rows[c.name] ?? []
  }

  #byId(c: Collection, id: unknown): Rec | null {
    return this.#rows(c).find((r) => r.id === id) ?? null
  }

  #matches(ast: FilterNode, rec: Rec): boolean {
    const cache = new Map<OperandNode, Operand>()
    const operand = (node: OperandNode) => {
      let o = cache.get(node)
      if (!o) cache.set(node, (o = this.#operand(node, rec)))
      return o
    }
    return everyCombination((rows) => this.#truth(ast, rows, operand)).some((t) => t === true)
  }

  #truth(node: FilterNode, rows: Rows, operand: (n: OperandNode) => Operand): Truth {
    switch (node.kind) {
      case 'And':
        return and(node.operands.map((n) => this.#truth(n, rows, operand)))
      case 'Or':
        return or(node.operands.map((n) => this.#truth(n, rows, operand)))
      case 'Compare':
        return this.#compare(node.op, operand(node.left), operand(node.right), rows)
    }
  }

  /** One comparison: on the shared rows, and (plain operators) for every value of match-all sides. */
  #compare(op: CompareOp, left: Operand, right: Operand, rows: Rows): Truth {
    const anyOf = op.startsWith('?')
    const base = (anyOf ? op.slice(1) : op) as BaseOp
    const matchAll = !anyOf && (left.matchAll || right.matchAll)
    // Galley: a match-all `!~` holds for a missing value (an empty set's NULL row), like `!=`
    const condition = (l: Val, r: Val): Truth => {
      const missing =
        matchAll && base === '!~' && ((left.matchAll && l.v === null) || (right.matchAll && r.v === null))
      return missing ? true : compareValues(base, l, r)
    }
    const main = condition(left.value(rows), right.value(rows))
    if (!matchAll) return main
    const ls = left.matchAll ? left.all() : [left.value(rows)]
    const rs = right.matchAll ? right.all() : [right.value(rows)]
    for (const l of ls) for (const r of rs) if (condition(l, r) === false) return false
    return main
  }

  #operand(node: OperandNode, rec: Rec): Operand {
    switch (node.kind) {
      case 'Literal':
        return constant(literal(node.value))
      case 'Macro':
        return constant(lit(macro(node.name, this.#now)))
      case 'Placeholder':
        throw new Error('unbound placeholder')
      case 'FunctionCall':
        return this.#function(node, rec)
      case 'Identifier':
        return this.#identifier(node.path, node.modifier, rec)
    }
  }

  #function(node: Extract<OperandNode, { kind: 'FunctionCall' }>, rec: Rec): Operand {
    const args = node.args.map((a) => this.#operand(a, rec))
    if (node.name === 'geoDistance') {
      const value = (rows: Rows): Val => {
        const [lonA, latA, lonB, latB] = args.map((a) => {
          const v = a.value(rows)
          const n = v.aff === 'none' || v.json ? toNumeric(v.v) : v.v
          return typeof n === 'number' ? n : null
        })
        if ([lonA, latA, lonB, latB].some((x) => x === null)) return { v: null, aff: 'none', json: true }
        const rad = (x: number) => (x * Math.PI) / 180
        const cos =
          Math.cos(rad(latA!)) * Math.cos(rad(latB!)) * Math.cos(rad(lonB!) - rad(lonA!)) +
          Math.sin(rad(latA!)) * Math.sin(rad(latB!))
        return { v: 6371 * Math.acos(Math.min(Math.max(cos, -1), 1)), aff: 'none', json: true }
      }
      // always any-of (§4.6)
      return { value, matchAll: false, all: () => everyCombination(value) }
    }
    if (node.name === 'strftime') {
      const text = (a: OperandNode | undefined) =>
        a?.kind === 'Literal' && typeof a.value === 'string' ? a.value : undefined
      const format = text(node.args[0])
      if (format === undefined) throw new Error('strftime format')
      const modifiers = node.args.slice(2).map((a) => text(a) ?? '')
      const time = args[1]
      const nowText = this.#now.toISOString().replace('T', ' ')
      const at = (v: Val): Val => {
        let t = v.v
        if (v.lit && typeof t === 'string' && /^(now)$/i.test(t)) t = nowText
        return { v: referenceStrftime(format, t, modifiers, this.#now), aff: 'none' }
      }
      if (time === undefined) return constant(at(lit(nowText)))
      return { value: (rows) => at(time.value(rows)), matchAll: time.matchAll, all: () => time.all().map(at) }
    }
    throw new Error(`unknown function ${node.name}`)
  }

  /** A field path from the record (or `@request.*`, `@collection.*`). */
  #identifier(path: string, modifier: string | undefined, rec: Rec): Operand {
    const props = path.split('.')
    if (props[0] === '@request') return this.#request_(props, modifier, rec)
    if (props[0] === '@collection') {
      const [name, alias] = props[1]!.split(':')
      const c = this.#collection(name!)
      const key = alias === undefined ? `@collection.${c.name}` : `@collection:${alias}`
      return this.#walked((rows) => {
        const row = pick(rows, key, this.#rows(c))
        return this.#walk(
          { collection: c, rec: row, key, multi: true },
          props.slice(2),
          modifier,
          rows,
          false,
        )
      })
    }
    return this.#walked((rows) =>
      this.#walk({ collection: this.#base, rec, key: '', multi: false }, props, modifier, rows, false),
    )
  }

  /** An operand from a walk: its match-all and its values on fresh rows. */
  #walked(walk: (rows: Rows) => { val: Val; matchAll: boolean }): Operand {
    let matchAll = false
    for (const r of everyCombination(walk)) matchAll ||= r.matchAll
    return {
      value: (rows) => walk(rows).val,
      matchAll,
      all: () => everyCombination((rows) => walk(rows).val),
    }
  }

  /** Walks `props` from a record through relations, back-relations and JSON (§4.3). */
  #walk(
    start: At,
    props: readonly string[],
    modifier: string | undefined,
    rows: Rows,
    nullifyMissing: boolean,
  ): { val: Val; matchAll: boolean } {
    let at = start
    for (let i = 0; i < props.length; i++) {
      const prop = props[i]!
      const field = at.collection.fields.find((f) => f.name === prop)
      const last = i === props.length - 1
      if (last)
        return {
          val: this.#last(at, prop, modifier, rows, nullifyMissing),
          matchAll: at.multi || this.#eachMulti(at, prop, modifier),
        }
      if (field && (field.type === 'json' || field.type === 'geoPoint')) {
        const v = at.rec === null ? undefined : jsonAt(stored(at.rec, field), props.slice(i + 1))
        const val: Val = { v: fromJson(v), aff: 'none', json: true }
        return { val: modifier === 'lower' ? { v: lower(val.v), aff: 'none' } : val, matchAll: at.multi }
      }
      if (!field) {
        const via = /^(\w+)_via_(\w+)$/.exec(prop)
        if (!via) {
          if (nullifyMissing) return { val: NULL, matchAll: at.multi }
          throw new Error(`unknown field ${prop}`)
        }
        const back = this.#collection(via[1]!)
        const bf = back.fields.find((f) => f.name === via[2])!
        const key = `${at.key}.${prop}`
        const candidates =
          at.rec === null
            ? []
            : this.#rows(back).filter((r) =>
                isMultiple(bf) ? items(r, bf).includes(at.rec!.id) : stored(r, bf) === at.rec!.id,
              )
        const single = !isMultiple(bf) && uniqueIndexed(back, bf.name)
        at = {
          collection: back,
          rec: pick(rows, key, single ? candidates.slice(0, 1) : candidates),
          key,
          multi: at.multi || !single,
        }
        continue
      }
      if (field.type !== 'relation') throw new Error(`${prop} is not a relation`)
      const target = this.#collection(String(field.collectionId))
      const key = `${at.key}.${prop}`
      if (!isMultiple(field)) {
        if (i === props.length - 2 && props[i + 1] === 'id') {
          return { val: this.#last(at, prop, modifier, rows, nullifyMissing), matchAll: at.multi }
        }
        at = {
          collection: target,
          rec: at.rec === null ? null : this.#byId(target, stored(at.rec, field)),
          key,
          multi: at.multi,
        }
        continue
      }
      const id = at.rec === null ? null : pick(rows, key, items(at.rec, field))
      at = { collection: target, rec: id === null ? null : this.#byId(target, id), key, multi: true }
    }
    throw new Error('empty path')
  }

  /** Whether `prop:each` fans out over a multiple field. */
  #eachMulti(at: At, prop: string, modifier: string | undefined): boolean {
    const f = at.collection.fields.find((x) => x.name === prop)
    return modifier === 'each' && f !== undefined && isMultiple(f)
  }

  #last(at: At, prop: string, modifier: string | undefined, rows: Rows, nullifyMissing: boolean): Val {
    const f = at.collection.fields.find((x) => x.name === prop)
    if (!f) {
      if (nullifyMissing) return NULL
      throw new Error(`unknown field ${prop}`)
    }
    switch (modifier) {
      case 'length': {
        if (at.rec === null) return { v: null, aff: 'none' }
        if (isMultiple(f)) return { v: items(at.rec, f).length, aff: 'none' }
        return { v: stored(at.rec, f) === '' ? 0 : 1, aff: 'none' }
      }
      case 'each': {
        if (!isMultiple(f)) return column(at.rec, f)
        const item = at.rec === null ? null : pick(rows, `${at.key}.${prop}`, items(at.rec, f))
        return { v: item === null ? null : String(item), aff: 'none' }
      }
      case 'lower':
        return { v: lower(column(at.rec, f).v), aff: 'none' }
      default:
        return column(at.rec, f)
    }
  }

  // ----------------------------------------------------------------------------------------------
  // @request.*

  #request_(props: string[], modifier: string | undefined, rec: Rec): Operand {
    const req = this.#request
    const section = props[1]
    const keys = props.slice(2)
    const staticValue = (found: boolean, v: unknown): Operand => {
      if (modifier === 'isset') return constant(lit(found ? 1 : 0))
      if (!found) return constant(NULL)
      if (modifier === 'lower') return constant(lit(lower(requestLiteral(v))))
      return constant(lit(requestLiteral(v)))
    }
    if (section === 'method' || section === 'context') return staticValue(true, req[section])
    if (section === 'query') return staticValue(...lookup(req.query, keys))
    if (section === 'headers') {
      const snake = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k.toLowerCase().replace(/-/g, '_'), v]),
      )
      return staticValue(...lookup(snake, keys))
    }
    if (section === 'auth') return this.#auth(keys, modifier)
    if (section === 'body') return this.#body(keys, modifier, rec)
    throw new Error(`unknown @request section ${section}`)
  }

  #auth(keys: string[], modifier: string | undefined): Operand {
    const auth = this.#request.auth
    if (auth === undefined) return constant(modifier === 'isset' ? lit(0) : NULL)
    const c = this.#collection(auth.collection)
    const record = this.#byId(c, auth.id)!
    const [name] = keys
    const plain = ['id', 'collectionId', 'collectionName', 'email', 'emailVisibility', 'verified']
    if (keys.length === 1 && plain.includes(name!)) {
      const v =
        name === 'collectionId'
          ? c.id
          : name === 'collectionName'
            ? c.name
            : stored(
                record,
                c.fields.find((f) => f.name === name)!,
              )
      if (modifier === 'isset') return constant(lit(1))
      const value = typeof v === 'boolean' ? (v ? 1 : 0) : (v as Sql)
      return constant(lit(modifier === 'lower' ? lower(value) : value))
    }
    if (keys.length === 1 && modifier === 'isset')
      return constant(lit(c.fields.some((f) => f.name === name) ? 1 : 0))
    return this.#walked((rows) =>
      this.#walk({ collection: c, rec: record, key: '@auth', multi: false }, keys, modifier, rows, true),
    )
  }

  #body(keys: string[], modifier: string | undefined, rec: Rec): Operand {
    const body = this.#request.body
    const [name, ...rest] = keys as [string, ...string[]]
    const field = this.#base.fields.find((f) => f.name === name)
    const has = Object.hasOwn(body, name)
    const raw = body[name]
    if (field === undefined || (rest.length > 0 && field.type !== 'relation')) {
      const [found, v] = lookup(body, keys)
      if (modifier === 'isset') return constant(lit(found ? 1 : 0))
      if (!found) return constant(NULL)
      return constant(lit(modifier === 'lower' ? lower(requestLiteral(v)) : requestLiteral(v)))
    }
    if (rest.length > 0) {
      // the records the submitted ids name
      const ids = [...new Set(bodyItems(raw).filter((id) => id !== ''))]
      if (ids.length === 0) return constant(NULL)
      const target = this.#collection(String(field.collectionId))
      const multiple = isMultiple(field)
      const candidates = this.#rows(target).filter((r) =>
        multiple ? ids.includes(String(r.id)) : r.id === ids.at(-1),
      )
      return this.#walked((rows) => {
        const row = pick(rows, '@body.' + name, candidates)
        return this.#walk(
          { collection: target, rec: row, key: '@body.' + name, multi: multiple },
          rest,
          modifier,
          rows,
          true,
        )
      })
    }
    switch (modifier) {
      case 'isset':
        return constant(lit(has ? 1 : 0))
      case 'length':
        return constant(
          lit(raw === undefined || raw === null || raw === '' ? 0 : Array.isArray(raw) ? raw.length : 1),
        )
      case 'lower':
        return constant(lit(has ? (lower(requestLiteral(raw)) ?? '') : ''))
      case 'each': {
        const list = bodyItems(raw)
        if (!isMultiple(field)) return constant(lit(list.at(-1) ?? null))
        const value = (rows: Rows): Val => ({ v: pick(rows, '@bodyEach.' + name, list), aff: 'none' })
        return { value, matchAll: true, all: () => everyCombination(value) }
      }
      case 'changed': {
        if (!has) return constant(lit(0))
        // `@request.body.f:isset = true && @request.body.f != f` (§4.4)
        const stored = column(rec, field)
        const differs =
          field.type === 'json' || field.type === 'geoPoint'
            ? JSON.stringify(rec[field.name] ?? null) !== JSON.stringify(raw ?? null)
            : compareValues('!=', lit(requestLiteral(convertForField(field, raw))), stored) === true
        return constant({ v: differs ? 1 : 0, aff: 'none' })
      }
      default:
        return constant(lit(requestLiteral(convertForField(field, raw))))
    }
  }
}

type BaseOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~' | '!~'

/** A comparison of two values with PocketBase's SQL (§4.2), three-valued. */
function compareValues(op: BaseOp, l: Val, r: Val): Truth {
  switch (op) {
    case '=':
    case '!=': {
      const eq = op === '='
      if (l.json || r.json) return eq ? isSame(l, r) : !isSame(l, r)
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
    case '~':
    case '!~': {
      const value = likeText(l.v)
      const pattern = r.lit
        ? r.v === null
          ? null
          : likeLiteral(String(r.v))
        : r.v === null
          ? null
          : `%${String(r.v)}%`
      if (value === null || pattern === null) return null
      const m = like(value, pattern)
      return op === '~' ? m : !m
    }
    default:
      return compareSql(op, l, r)
  }
}

function literal(v: LiteralValue): Val {
  if (typeof v === 'boolean') return lit(v ? 1 : 0)
  return lit(v)
}

/** A request value as a bound parameter: arrays and objects as their JSON text. */
function requestLiteral(v: unknown): Sql {
  if (v === null || v === undefined) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number' || typeof v === 'string') return v
  return JSON.stringify(v)
}

/** Multipart bodies send texts: a number field's numeric text is a number, a bool field's "true"/"false" a bool. */
function convertForField(f: Field, v: unknown): unknown {
  if (typeof v !== 'string') return v
  if (f.type === 'number' && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(v)) return Number(v)
  if (f.type === 'bool') {
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false
  }
  return v
}

function bodyItems(v: unknown): string[] {
  if (v === null || v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)))
}

function lookup(root: unknown, keys: readonly string[]): [boolean, unknown] {
  let cur = root
  for (const key of keys) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(key) || Number(key) >= cur.length) return [false, undefined]
      cur = cur[Number(key)]
    } else if (cur !== null && typeof cur === 'object' && Object.hasOwn(cur, key)) {
      cur = (cur as Record<string, unknown>)[key]
    } else return [false, undefined]
  }
  return [true, cur]
}

function uniqueIndexed(c: Collection, field: string): boolean {
  return c.indexes.some((text) => {
    const m = /^\s*CREATE\s+UNIQUE\s+INDEX\s+\S+\s+ON\s+\S+\s*\(\s*[`"[]?(\w+)[`"\]]?\s*\)/i.exec(text)
    return m?.[1] === field
  })
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0')
const dt = (d: Date) => d.toISOString().replace('T', ' ')

/** The datetime macros (§4.5), at `now`, UTC. */
function macro(name: MacroName, now: Date): Sql {
  const y = now.getUTCFullYear()
  const m = now.getUTCMonth() + 1
  const d = now.getUTCDate()
  const day = `${y}-${pad(m)}-${pad(d)}`
  const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate()
  const values: Record<MacroName, Sql> = {
    '@now': dt(now),
    '@yesterday': dt(new Date(now.getTime() - 86400000)),
    '@tomorrow': dt(new Date(now.getTime() + 86400000)),
    '@todayStart': `${day} 00:00:00.000Z`,
    '@todayEnd': `${day} 23:59:59.999Z`,
    '@monthStart': `${y}-${pad(m)}-01 00:00:00.000Z`,
    '@monthEnd': `${y}-${pad(m)}-${pad(lastDay)} 23:59:59.999Z`,
    '@yearStart': `${y}-01-01 00:00:00.000Z`,
    '@yearEnd': `${y}-12-31 23:59:59.999Z`,
    '@second': now.getUTCSeconds(),
    '@minute': now.getUTCMinutes(),
    '@hour': now.getUTCHours(),
    '@weekday': now.getUTCDay(),
    '@day': d,
    '@month': m,
    '@year': y,
  }
  return values[name]
}
