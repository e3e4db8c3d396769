import type { Expression, SqlBool } from 'kysely'
import type { Join } from '../filter/index.js'

/**
 * Join aliases of one compiled filter: `<name>~<n>`, unique across the filter and the rules
 * compiled into it. `~` cannot appear in a collection name, so an alias never hides a table.
 */
export class Aliases {
  #n = 0

  next(prefix: string): string {
    return `${prefix}~${++this.#n}`
  }
}

export type MakeJoin = (alias: string) => {
  readonly source: Expression<unknown>
  readonly on: Expression<SqlBool>
}

/** Makes the joins of paths; `key` names a path prefix (`.tags`, `@collection:m`). */
export interface JoinFactory {
  join(key: string, prefix: string, make: MakeJoin): Join
}

/** Joins shared by every operand that walks the same path prefix (PocketBase's join aliases). */
export function sharedJoins(aliases: Aliases): JoinFactory {
  const made = new Map<string, Join>()
  return {
    join(key, prefix, make) {
      let j = made.get(key)
      if (j === undefined) {
        const alias = aliases.next(prefix)
        j = { alias, ...make(alias) }
        made.set(key, j)
      }
      return j
    },
  }
}

/** New joins on every call: the rows of a match-all check, a scalar subquery or a sort value. */
export function freshJoins(aliases: Aliases): JoinFactory {
  return {
    join(_key, prefix, make) {
      const alias = aliases.next(prefix)
      return { alias, ...make(alias) }
    },
  }
}
