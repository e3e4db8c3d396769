import type BetterSqlite3 from 'better-sqlite3'
import type { Executor, SelectColumn } from './dialect.js'

/**
 * `describeSelect` on SQLite: the statement is only prepared, never run. better-sqlite3 refuses
 * several statements in one text, tells whether a statement returns rows and whether it writes, and
 * gives each column's origin table and column (through subqueries, CTEs and views) and declared type.
 */
export function sqliteSelectDescriber(conn: BetterSqlite3.Database) {
  // The connection is the one Kysely uses: call it inside a transaction so nobody else holds it.
  return async (_trx: Executor, query: string): Promise<SelectColumn[]> => {
    let stmt: BetterSqlite3.Statement
    try {
      stmt = conn.prepare(query)
    } catch (err) {
      if (err instanceof RangeError && /more than one statement/.test(err.message))
        throw new Error('multiple statements are not supported')
      if (err instanceof RangeError && /no statements/.test(err.message)) throw new Error('empty query')
      throw err
    }
    if (!stmt.reader || !stmt.readonly) throw new Error('only a single SELECT statement is supported')
    return stmt.columns().map((c) => {
      const main = c.database === 'main'
      return {
        name: c.name,
        table: main ? (c.table ?? undefined) : undefined,
        column: main ? (c.column ?? undefined) : undefined,
        type: (c.type ?? '').toLowerCase(),
      }
    })
  }
}
