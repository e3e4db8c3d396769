import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely'
import pg from 'pg'
import type { Logger } from '../lib/index.js'
import type { Executor, GalleyDialect } from './dialect.js'
import { postgresDialect } from './dialects/postgres.js'
import { sqliteDialect } from './dialects/sqlite.js'
import { PgListener } from './pg-listener.js'

export type Durability = 'normal' | 'full'

export interface DatabaseOptions {
  /** `postgres://…` for PostgreSQL; undefined for SQLite files in `dir`. */
  readonly url?: string | undefined
  /** The data directory (SQLite files, storage, backups). */
  readonly dir: string
  readonly durability?: Durability
  readonly logger: Logger
  /** PostgreSQL pool size. */
  readonly poolSize?: number
}

export interface Database {
  readonly dialect: GalleyDialect
  /** The main database. */
  readonly db: Executor
  /** Request logs and the realtime event log: `auxiliary.db` on SQLite, the same database on PostgreSQL. */
  readonly aux: Executor
  /** Runs `fn` in a transaction, or inside the one `executor` already is. */
  transaction<T>(fn: (trx: Executor) => Promise<T>, executor?: Executor): Promise<T>
  /**
   * Cross-instance notifications: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL (so every
   * instance sharing the database hears them). `onReconnect` fires after a lost listener connection
   * is re-established, when notifications may have been missed.
   */
  subscribe(channel: string, fn: (payload: string) => void, onReconnect?: () => void): () => void
  /** Publishes on `channel`; with a PostgreSQL transaction, delivery happens at its commit. */
  publish(channel: string, payload: string, executor?: Executor): Promise<void>
  close(): Promise<void>
}

const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // int8 (count(*), identity columns) as a JS number: Galley never stores integers past 2^53.
    if (oid === 20) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options) : openSqlite(options)
}

function transactionRunner(db: Executor) {
  return <T>(fn: (trx: Executor) => Promise<T>, executor?: Executor): Promise<T> => {
    const ex = executor ?? db
    if (ex.isTransaction) return fn(ex)
    return ex.transaction().execute(fn)
  }
}

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

async function openSqlite(options: DatabaseOptions): Promise<Database> {
  mkdirSync(options.dir, { recursive: true })
  const durability = options.durability ?? 'normal'
  const main = openSqliteFile(join(options.dir, 'data.db'), durability)
  const auxConn = openSqliteFile(join(options.dir, 'auxiliary.db'), durability)
  // One connection per file: Kysely serializes its use, which makes it the single writer.
  const db = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database: main }) })
  const aux = new Kysely<Record<string, never>>({ dialect: new SqliteDialect({ database: auxConn }) })
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
    async close() {
      await aux.destroy()
      await db.destroy()
    },
  }
}

async function openPostgres(options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // A dead database must fail requests fast (503) rather than queue them.
    connectionTimeoutMillis: 1500,
    idleTimeoutMillis: 30_000,
    statement_timeout: 30_000,
    query_timeout: 35_000,
    keepAlive: true,
    types: PG_TYPES,
    application_name: 'galley',
  })
  // Errors of idle clients (server restart, network loss) must not crash the process; the pool
  // drops the broken client and opens a new one on the next request.
  pool.on('error', (err) => options.logger.warn({ err: err.message }, 'postgres idle client error'))
  const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) })
  const listener = new PgListener(options.url!, options.logger)
  return {
    dialect: postgresDialect,
    db,
    aux: db,
    transaction: transactionRunner(db),
    subscribe: (channel, fn, onReconnect) => listener.subscribe(channel, fn, onReconnect),
    async publish(channel, payload, executor) {
      await sql`SELECT pg_notify(${channel}, ${payload})`.execute(executor ?? db)
    },
    async close() {
      await listener.close()
      await db.destroy()
    },
  }
}
