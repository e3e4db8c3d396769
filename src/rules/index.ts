/**
 * The rules layer: filters and API rules of records, compiled to Kysely expressions over the
 * collection's table. Every transport asks these functions (DESIGN.md principle 2).
 *
 * Lowering: a path of single relations is a scalar subquery; a multi-valued path (multiple
 * relations, back-relations, `@collection.*`, `:each`) is a correlated `EXISTS` over LEFT JOINs with
 * PocketBase's match-all semantics (see `filter/compile.ts`, `filter/multi.ts`). `@request.*` values
 * are known at compile time and compare like literals.
 */
import { sql, type Expression, type SqlBool } from 'kysely'
import type { GalleyDialect } from '../db/index.js'
import {
  compileFilter,
  filterDialect,
  FilterError,
  parseFilter,
  parseSort,
  type SortItem,
} from '../filter/index.js'
import type { Collection } from '../schema/index.js'
import { Aliases } from './joins.js'
import { RecordResolver } from './record-resolver.js'
import type { RulesContext } from './rules-context.js'
import type { CompileTarget, RequestContext, RuleEnv } from './request-context.js'

export type { CompileTarget, RequestContext, RequestContextName, RuleEnv } from './request-context.js'
export type { SortItem } from '../filter/index.js'
export { MAX_JSON_PATH_SEGMENTS, MAX_RELATION_HOPS } from './limits.js'
export { hasSingleColumnUniqueIndex } from './unique-index.js'

function context(env: RuleEnv): RulesContext {
  return {
    env,
    dialect: filterDialect(env.dialect.name),
    aliases: new Aliases(),
    now: env.now ?? new Date(),
  }
}

function resolver(target: CompileTarget, ctx: RulesContext, sorting = false): RecordResolver {
  const scope = { collection: target.collection, ref: target.ref ?? target.collection.name }
  return new RecordResolver(scope, target.privileged, ctx, sorting)
}

/**
 * A filter/rule for `target.collection` as a WHERE expression over its table, referenced by its own
 * name (the records query is `selectFrom(collection.name)` unaliased; a create-rule check runs the
 * same expression against a CTE of the same name holding the would-be row). Empty text ->
 * undefined. Throws FilterError (400) for syntax/unknown fields.
 *
 * @example
 * const where = compileRecordFilter('author.name = "Ann" && tags.name ?= "go"', { collection: posts, privileged: false }, env)
 * db.selectFrom('posts').selectAll().where(where!)
 */
export function compileRecordFilter(
  text: string,
  target: CompileTarget,
  env: RuleEnv,
): Expression<SqlBool> | undefined {
  const ast = parseFilter(text)
  if (ast === undefined) return undefined
  const ctx = context(env)
  return compileFilter(ast, resolver(target, ctx), ctx.dialect, { now: ctx.now })
}

/** `sort` for records: same resolution (privileges) as compileRecordFilter; `@random`, `@rowid` supported. */
export function compileRecordSort(text: string, target: CompileTarget, env: RuleEnv): SortItem[] {
  return parseSort(text, resolver(target, context(env), true))
}

/**
 * The rule gate: null rule -> 'superusers' (only superusers may act), '' -> 'anyone', otherwise the
 * compiled expression (full privileges). A rule holding only comments or whitespace lets nobody in.
 * `ref`: the SQL name of the row when it is not the collection's table (see `CompileTarget.ref`).
 */
export function ruleCondition(
  rule: string | null,
  collection: Collection,
  env: RuleEnv,
  ref?: string,
): 'superusers' | 'anyone' | Expression<SqlBool> {
  if (rule === null) return 'superusers'
  if (rule === '') return 'anyone'
  return compileRecordFilter(rule, { collection, privileged: true, ref }, env) ?? sql<SqlBool>`FALSE`
}

/** A request that is no request: no auth, no body, so `@request.*` values are null (PocketBase's nil RequestInfo). */
const NO_REQUEST: RequestContext = { method: '', headers: {}, query: {}, body: {}, context: 'default' }

/**
 * Compiles a rule of `collection` as the records API would (full privileges), other collections
 * being looked up in `all` (the schema as it will be once saved), so unknown fields, bad
 * `@collection` references and misplaced modifiers are found when the collection is saved
 * (PocketBase's `checkRule`, pocketbase-api.md §7.4). Returns the compile error's message and
 * position, or undefined when the rule compiles. Nothing runs: compiling only builds the SQL.
 *
 * @example
 * ruleCompileError('author.nme = "x"', posts, [posts, users], dialect) // { message: 'unknown field "author.nme" at 0', position: 0 }
 */
export function ruleCompileError(
  rule: string,
  collection: Collection,
  all: readonly Collection[],
  dialect: GalleyDialect,
): { readonly message: string; readonly position: number } | undefined {
  const findCollection = (idOrName: string) =>
    all.find((c) => c.id === idOrName) ?? all.find((c) => c.name.toLowerCase() === idOrName.toLowerCase())
  try {
    compileRecordFilter(
      rule,
      { collection, privileged: true },
      { findCollection, dialect, request: NO_REQUEST },
    )
    return undefined
  } catch (err) {
    if (err instanceof FilterError) return { message: err.message, position: err.position }
    throw err
  }
}

export {
  compileRecordPredicate,
  RecordPredicateUnsupported,
  type PredicateEnv,
  type RecordImage,
  type RecordPredicate,
} from './record-predicate.js'
