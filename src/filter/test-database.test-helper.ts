import { randomBytes } from 'node:crypto'
import BetterSqlite3 from 'better-sqlite3'
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteDialect,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely'
import pg from 'pg'
import { afterAll, beforeAll, describe } from 'vitest'
import type { DialectName } from '../db/index.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- test tables are untyped, as record tables are */

const PG_URL = process.env.GALLEY_TEST_PG_URL

if (!PG_URL && !process.env.GALLEY_PG_SKIP_WARNED) {
  process.env.GALLEY_PG_SKIP_WARNED = '1'
  console.warn('\n*** filter: PostgreSQL tests SKIPPED: set GALLEY_TEST_PG_URL to run them ***\n')
}

/** A Kysely that only compiles queries, for golden SQL. */
export function compilerOnly(name: DialectName): Kysely<any> {
  const pgLike = name === 'postgres'
  return new Kysely<any>({
    dialect: {
      createAdapter: () => (pgLike ? new PostgresAdapter() : new SqliteAdapter()),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => (pgLike ? new PostgresIntrospector(db) : new SqliteIntrospector(db)),
      createQueryCompiler: () => (pgLike ? new PostgresQueryCompiler() : new SqliteQueryCompiler()),
    },
  })
}

export interface TestDatabase {
  readonly db: Kysely<any>
  close(): Promise<void>
}

/** An in-memory SQLite database, or a new schema in the PostgreSQL of `GALLEY_TEST_PG_URL`. */
export async function openTestDatabase(name: DialectName): Promise<TestDatabase> {
  if (name === 'sqlite') {
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new BetterSqlite3(':memory:') }) })
    return { db, close: () => db.destroy() }
  }
  if (!PG_URL) throw new Error('GALLEY_TEST_PG_URL is not set')
  const url = PG_URL
  const schema = `galley_filter_${randomBytes(6).toString('hex')}`
  await adminQuery(url, `CREATE SCHEMA "${schema}"`)
  const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` })
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) })
  return {
    db,
    async close() {
      await db.destroy()
      await adminQuery(url, `DROP SCHEMA "${schema}" CASCADE`)
    },
  }
}

async function adminQuery(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(text)
  } finally {
    await client.end()
  }
}

/**
 * A suite on SQLite, and on PostgreSQL when `GALLEY_TEST_PG_URL` is set (otherwise skipped, with the
 * reason in its title). `db()` is available inside tests and hooks.
 */
export function describeEachDatabase(
  title: string,
  fn: (name: DialectName, db: () => Kysely<any>) => void,
): void {
  for (const name of ['sqlite', 'postgres'] as const) {
    const skip = name === 'postgres' && !PG_URL
    const suite = skip ? describe.skip : describe
    suite(`${title} on ${name}${skip ? ' (SKIPPED: GALLEY_TEST_PG_URL is not set)' : ''}`, () => {
      let database: TestDatabase | undefined
      beforeAll(async () => {
        database = await openTestDatabase(name)
      })
      afterAll(async () => database?.close())
      fn(name, () => database!.db)
    })
  }
}
