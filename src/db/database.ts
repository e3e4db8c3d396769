import type { Logger } from '../lib/index.js'
import type { Executor, GalleyDialect, SelectColumn } from './dialect.js'

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
  /**
   * The columns of one SELECT (view collections), seen from inside `trx` and without writing
   * anything: names, the table column each reads unchanged where the database can tell, and types.
   * Throws the database's error (syntax, unknown names) or one saying the text is not exactly one
   * read-only SELECT.
   */
  describeSelect(trx: Executor, query: string): Promise<SelectColumn[]>
  close(): Promise<void>
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  // Each driver is loaded only when used: a SQLite deployment never pays for pg, and vice versa.
  if (options.url) return (await import('./open-postgres.js')).openPostgres(options)
  return (await import('./open-sqlite.js')).openSqlite(options)
}

export function transactionRunner(db: Executor) {
  return <T>(fn: (trx: Executor) => Promise<T>, executor?: Executor): Promise<T> => {
    const ex = executor ?? db
    if (ex.isTransaction) return fn(ex)
    return ex.transaction().execute(fn)
  }
}
