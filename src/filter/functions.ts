import { sql, type Expression } from 'kysely'
import { formatDateTime } from '../lib/index.js'
import type { FunctionCallNode } from './ast.js'
import { numericText } from './coerce.js'
import type { Operand } from './compare.js'
import { FilterResolveError } from './errors.js'
import type { FilterDialect } from './filter-dialect.js'
import { MAX_STRFTIME_TIME_TEXT } from './limits.js'
import { parseStrftime, type StrftimeTime } from './strftime.js'

const EARTH_RADIUS_KM = 6371

/**
 * The functions of the filter language (pocketbase-api.md §4.6). `now` is the request time, the
 * instant of `@now`.
 */
export function compileFunction(
  node: FunctionCallNode,
  args: readonly Operand[],
  dialect: FilterDialect,
  now: Date,
): Operand {
  if (node.name === 'geoDistance') return geoDistance(node, args, dialect)
  if (node.name === 'strftime') return strftime(node, args, dialect, now)
  throw new FilterResolveError(`unknown function "${node.name}"`, node.position)
}

/**
 * Whether a function of multi-valued arguments is true when one combination of values satisfies the
 * comparison, whatever the operator: `geoDistance` (PocketBase: "always behaves as any-of"). The
 * others (`strftime`) keep the match-all of their argument, as a field would.
 */
export function alwaysAnyOf(name: string): boolean {
  return name === 'geoDistance'
}

/**
 * `strftime(format[, time[, modifier…]])`: a text, NULL (which compares as "") where SQLite's is NULL.
 * Without a time value, and for the text 'now', the time is the request time on both databases.
 */
function strftime(
  node: FunctionCallNode,
  args: readonly Operand[],
  dialect: FilterDialect,
  now: Date,
): Operand {
  let call = parseStrftime(node)
  const nowText = formatDateTime(now)
  let time: StrftimeTime = { type: 'value', value: nowText }
  const arg = args[1]
  if (arg?.type === 'sql') {
    time = { type: 'sql', expression: arg.expression, kind: arg.kind }
  } else if (arg !== undefined) {
    const v = arg.value
    if (v === null || (typeof v === 'string' && v.length > MAX_STRFTIME_TIME_TEXT)) {
      return { type: 'value', value: null }
    }
    const text = typeof v === 'string' ? v.toLowerCase() : undefined
    if (text === 'subsec' || text === 'subsecond') {
      call = { ...call, modifiers: [...call.modifiers, { modifier: { kind: 'subsec' }, text: 'subsec' }] }
    }
    const isNow = text === 'now' || text === 'subsec' || text === 'subsecond'
    time = { type: 'value', value: isNow ? nowText : typeof v === 'boolean' ? Number(v) : v }
  }
  return { type: 'sql', kind: 'text', computed: true, expression: dialect.strftime(call, time, now) }
}

/** `geoDistance(lonA, latA, lonB, latB)`: the haversine distance in km (spherical law of cosines). */
function geoDistance(node: FunctionCallNode, args: readonly Operand[], dialect: FilterDialect): Operand {
  if (args.length !== 4) {
    throw new FilterResolveError('geoDistance() expects 4 arguments (lonA, latA, lonB, latB)', node.position)
  }
  const [lonA, latA, lonB, latB] = args.map((arg, i) =>
    numeric(arg, node.args[i]?.position ?? node.position, dialect),
  )
  const rad = (x: Expression<unknown> | undefined) => sql`radians(${x})`
  // Rounding can push the cosine just past 1 for equal points; PostgreSQL's acos() then raises.
  const cosine = dialect.clamp(
    sql`cos(${rad(latA)}) * cos(${rad(latB)}) * cos(${rad(lonB)} - ${rad(lonA)}) + sin(${rad(latA)}) * sin(${rad(latB)})`,
    -1,
    1,
  )
  return {
    type: 'sql',
    kind: 'number',
    computed: true,
    expression: sql`(${sql.lit(EARTH_RADIUS_KM)} * acos(${cosine}))`,
  }
}

function numeric(arg: Operand, position: number, dialect: FilterDialect): Expression<unknown> {
  if (arg.type === 'sql') {
    if (arg.kind === 'number') return arg.expression
    if (arg.kind === 'json') return dialect.jsonNumber(arg.expression)
  } else {
    const n = typeof arg.value === 'string' ? numericText(arg.value) : arg.value
    if (typeof n === 'number') return sql.val(n)
  }
  throw new FilterResolveError('geoDistance() expects numeric arguments', position)
}
