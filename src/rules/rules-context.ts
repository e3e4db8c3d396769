import type { Collection } from '../schema/index.js'
import type { FilterDialect } from '../filter/index.js'
import type { Aliases } from './joins.js'
import type { RuleEnv } from './request-context.js'

/** What one compile shares: the request, the database, and the join alias counter. */
export interface RulesContext {
  readonly env: RuleEnv
  readonly dialect: FilterDialect
  readonly aliases: Aliases
  readonly now: Date
}

/** The row a filter is about: a collection and the SQL name of its row. */
export interface Scope {
  readonly collection: Collection
  readonly ref: string
}
