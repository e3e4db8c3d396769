import type BetterSqlite3 from 'better-sqlite3'
import type { SqliteDatabase, SqliteStatement } from 'kysely'

/** Prepared statements kept per connection; the least recently used is dropped past this. */
export const STATEMENT_CACHE_SIZE = 1000

const DDL = /^\s*(create|alter|drop|reindex|vacuum|attach|detach|pragma)\b/i

/**
 * Kysely prepares every query anew, which costs as much as running a simple one. This keeps the
 * prepared statement of each SQL text (LRU, bounded). Any schema statement empties the cache, so a
 * statement is never reused across a change of the tables it reads.
 */
export function withStatementCache(
  conn: BetterSqlite3.Database,
  size = STATEMENT_CACHE_SIZE,
): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>()
  return {
    close: () => conn.close(),
    prepare(sql: string): SqliteStatement {
      if (DDL.test(sql)) {
        cache.clear()
        return conn.prepare(sql) as unknown as SqliteStatement
      }
      const hit = cache.get(sql)
      if (hit) {
        cache.delete(sql)
        cache.set(sql, hit)
        return hit
      }
      const stmt = conn.prepare(sql) as unknown as SqliteStatement
      cache.set(sql, stmt)
      if (cache.size > size) cache.delete(cache.keys().next().value!)
      return stmt
    },
  }
}
