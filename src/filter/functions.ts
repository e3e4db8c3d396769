import { sql, type Expression } from 'kysely'
import type { FunctionCallNode } from './ast.js'
import { numericText } from './coerce.js'
import type { Operand } from './compare.js'
import { FilterResolveError } from './errors.js'
import type { FilterDialect } from './filter-dialect.js'

const EARTH_RADIUS_KM = 6371

/**
 * The functions of the filter language. `strftime` needs a translation of SQLite's formats and
 * modifiers for PostgreSQL and is not supported yet.
 */
export function compileFunction(
  node: FunctionCallNode,
  args: readonly Operand[],
  dialect: FilterDialect,
): Operand {
  if (node.name === 'geoDistance') return geoDistance(node, args, dialect)
  if (node.name === 'strftime') {
    throw new FilterResolveError('function "strftime" is not supported yet', node.position)
  }
  throw new FilterResolveError(`unknown function "${node.name}"`, node.position)
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
