import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import { transactionRunner, type Database, type DatabaseOptions, type Durability } from './database.js'
import { sqliteSelectDescriber } from './describe-sqlite.js'
import { sqliteDialect } from './dialects/sqlite.js'
import {
  FALLBACK_AUTOCHECKPOINT_PAGES,
  SqliteCheckpointer,
  WAL_SIZE_LIMIT_BYTES,
} from './sqlite-checkpointer.js'
import { withStatementCache } from './statement-cache.js'

function openSqliteFile(path: string, durability: Durability): BetterSqlite3.Database {
  const conn = new BetterSqlite3(path)
  conn.pragma('journal_mode = WAL')
  conn.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  conn.pragma('foreign_keys = ON')
  conn.pragma('busy_timeout = 10000')
  conn.pragma('temp_store = MEMORY')
  conn.pragma('cache_size = -32000')
  return conn
}

export async function openSqlite(options: DatabaseOptions): Promise<Database> {
  mkdirSync(options.dir, { recursive: true })
  const durability = options.durability ?? 'normal'
  const main = openSqliteFile(join(options.dir, 'data.db'), durability)
  const auxConn = openSqliteFile(join(options.dir, 'auxiliary.db'), durability)
  // checkpoints run beside the writer (sqlite-checkpointer.ts); the connections' own are the fallback
  for (const conn of [main, auxConn]) {
    conn.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`)
    conn.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`)
  }
  const checkpointer = new SqliteCheckpointer(
    [join(options.dir, 'data.db'), join(options.dir, 'auxiliary.db')],
    (message) => options.logger.warn({ message }, 'sqlite checkpoint failed'),
  )
  // One connection per file: Kysely serializes its use, which makes it the single writer.
  const db = new Kysely<Record<string, never>>({
    dialect: new SqliteDialect({ database: withStatementCache(main) }),
  })
  const aux = new Kysely<Record<string, never>>({
    dialect: new SqliteDialect({ database: withStatementCache(auxConn) }),
  })
  const bus = new EventEmitter()
  bus.setMaxListeners(0)
  return {
    dialect: sqliteDialect,
    db,
    aux,
    transaction: transactionRunner(db),
    subscribe(channel, fn) {
      bus.on(channel, fn)
      return () => bus.off(channel, fn)
    },
    async publish(channel, payload) {
      // Callers publish after their commit; emit on the next tick so listeners never run inside it.
      setImmediate(() => bus.emit(channel, payload))
    },
    describeSelect: sqliteSelectDescriber(main),
    async close() {
      await checkpointer.close()
      await aux.destroy()
      await db.destroy()
    },
  }
}
