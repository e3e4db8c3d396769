import { sql } from 'kysely'
import type { Database } from './database.js'
import type { Executor } from './dialect.js'

/** One versioned step of the system schema. Names sort in the order they run. */
export interface Migration {
  readonly name: string
  up(trx: Executor, db: Database): Promise<void>
}

/**
 * Runs every migration not yet recorded in `_migrations`, each in its own transaction under the
 * dialect's cross-process lock. Two instances starting together on one database serialize here;
 * the second finds each migration recorded and skips it. Returns the names it applied.
 */
export async function runMigrations(database: Database, migrations: readonly Migration[]): Promise<string[]> {
  const names = migrations.map((m) => m.name)
  if (new Set(names).size !== names.length) throw new Error('duplicate migration names')
  await database.db.schema
    .createTable('_migrations')
    .ifNotExists()
    .addColumn('name', 'text', (c) => c.primaryKey().notNull())
    .addColumn('applied', 'text', (c) => c.notNull())
    .execute()
    .catch(async (err: unknown) => {
      // Two PostgreSQL instances may race on CREATE TABLE IF NOT EXISTS (a unique violation on
      // pg_type); the table exists either way.
      if (!(await database.dialect.tableExists(database.db, '_migrations'))) throw err
    })

  const applied: string[] = []
  for (const migration of migrations) {
    const ran = await database.transaction(async (trx) => {
      await database.dialect.lockSchema(trx)
      const done = await trx
        .selectFrom('_migrations')
        .select('name')
        .where('name', '=', migration.name)
        .executeTakeFirst()
      if (done) return false
      await migration.up(trx, database)
      await trx
        .insertInto('_migrations')
        .values({ name: migration.name, applied: new Date().toISOString().replace('T', ' ') })
        .execute()
      return true
    })
    if (ran) applied.push(migration.name)
  }
  return applied
}

export async function appliedMigrations(database: Database): Promise<string[]> {
  const rows = await sql<{ name: string }>`SELECT name FROM "_migrations" ORDER BY name`.execute(database.db)
  return rows.rows.map((r) => r.name)
}
