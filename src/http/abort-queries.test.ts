import BetterSqlite3 from 'better-sqlite3'
import { Kysely, sql, SqliteDialect } from 'kysely'
import { describe, expect, it } from 'vitest'
import { AbortQueriesPlugin } from './abort-queries.js'

describe('AbortQueriesPlugin', () => {
  it('fails the next statement once aborted, so the transaction rolls back; the connection stays usable', async () => {
    const db = new Kysely<Record<string, never>>({
      dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }),
    })
    await sql`CREATE TABLE t (a TEXT)`.execute(db)
    const controller = new AbortController()
    const reason = new Error('timed out')
    const run = db.transaction().execute(async (trx) => {
      const ex = trx.withPlugin(new AbortQueriesPlugin(controller.signal))
      await sql`INSERT INTO t (a) VALUES ('first')`.execute(ex)
      await ex
        .insertInto('t' as never)
        .values({ a: 'second' } as never)
        .execute()
      // Work between statements (a password hash, say) outlives the limit.
      controller.abort(reason)
      await ex
        .insertInto('t' as never)
        .values({ a: 'third' } as never)
        .execute()
      return 'committed'
    })
    await expect(run).rejects.toBe(reason)
    const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM t`.execute(db)
    expect(rows.rows[0]!.n).toBe(0)
    await db.destroy()
  })
})
