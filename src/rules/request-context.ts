import type { GalleyDialect } from '../db/index.js'
import type { Collection } from '../schema/index.js'

export type RequestContextName =
  'default' | 'oauth2' | 'otp' | 'password' | 'realtime' | 'protectedFile' | 'expand' | 'batch'

/** What a rule can see of the request (`@request.*`, pocketbase-api.md §7.4). */
export interface RequestContext {
  /** The authenticated record (raw stored row, column values as the driver returns them) and its collection; undefined for guests. */
  readonly auth?: { readonly collection: Collection; readonly record: Readonly<Record<string, unknown>> }
  readonly method: string
  /** Lower-cased header names -> first value. Rules use snake_case names: `@request.headers.x_token` reads `x-token`. */
  readonly headers: Readonly<Record<string, string>>
  /** First value of each query parameter. */
  readonly query: Readonly<Record<string, string>>
  /** The submitted body after modifiers were applied, values in their JSON form (§7.4); `{}` when none. */
  readonly body: Readonly<Record<string, unknown>>
  readonly context: RequestContextName
}

export interface RuleEnv {
  readonly findCollection: (idOrName: string) => Collection | undefined
  readonly dialect: GalleyDialect
  readonly request: RequestContext
  /** Evaluation time for datetime macros. */
  readonly now?: Date
}

export interface CompileTarget {
  readonly collection: Collection
  /**
   * true for rules (hidden fields, @request.*, @collection.* allowed); false for a client
   * `filter`/`sort` (§3.4 step 5: hidden fields are unknown fields; each relation hop into another
   * collection requires that collection's listRule to be non-null and ANDs it in).
   */
  readonly privileged: boolean
  /**
   * The SQL name the row is read from; the collection's name when absent. A create rule reads a
   * would-be record from a CTE under another name, so joins into the real table (self-relations,
   * `@collection.*`, `@request.auth.*`) still read stored records.
   */
  readonly ref?: string | undefined
}
