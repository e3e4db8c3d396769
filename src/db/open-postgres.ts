import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { transactionRunner, type Database, type DatabaseOptions } from './database.js'
import { describePostgresSelect, instrumentClient } from './describe-postgres.js'
import { postgresDialect } from './dialects/postgres.js'
import { PgListener } from './pg-listener.js'

const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // int8 (count(*), identity columns) as a JS number: Galley never stores integers past 2^53.
    if (oid === 20) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

export async function openPostgres(options: DatabaseOptions): Promise<Database> {
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
  // The pool listens for errors only while a client is idle. A connection lost while checked out
  // (mid-query or mid-transaction) also emits 'error' on its client: without this listener that
  // event is unhandled and kills the process. The query itself fails with the error (a 503).
  pool.on('connect', (client) => {
    client.on('error', (err) => options.logger.debug({ err: err.message }, 'postgres connection lost'))
    instrumentClient(client)
  })
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
    describeSelect: describePostgresSelect,
    async close() {
      await listener.close()
      await db.destroy()
    },
  }
}
