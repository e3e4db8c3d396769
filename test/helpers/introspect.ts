import Sqlite from 'better-sqlite3'
import { join } from 'node:path'
import pg from 'pg'
import type { TestStore } from './galley.js'

/** A table column as the database itself reports it. */
export interface ColumnDesc {
  readonly name: string
  /** The declared type: SQLite's declared type upper-cased, PostgreSQL's `information_schema` data_type. */
  readonly type: string
  readonly notNull: boolean
  /** The default expression as the database prints it, or null. */
  readonly default: string | null
}

/** An index (primary keys excluded) as the database itself reports it. */
export interface IndexDesc {
  readonly name: string
  readonly unique: boolean
  /** The definition as stored by the database (SQLite's `sql`, PostgreSQL's `indexdef`). */
  readonly definition: string
}

/**
 * Reads a store's schema straight from the database, without going through Galley: SQLite through
 * a read-only better-sqlite3 connection on `data.db`, PostgreSQL through its own `pg` client.
 */
export interface Introspector {
  tables(): Promise<string[]>
  columns(table: string): Promise<ColumnDesc[]>
  indexes(table: string): Promise<IndexDesc[]>
  /** Runs a read query on the side connection (`?` placeholders on SQLite, `$n` on PostgreSQL). */
  rows(query: string, params?: unknown[]): Promise<Record<string, unknown>[]>
  close(): Promise<void>
}

export async function introspect(store: TestStore): Promise<Introspector> {
  if (store.kind === 'sqlite') {
    const db = new Sqlite(join(store.dir, 'data.db'), { readonly: true, fileMustExist: true })
    const all = (q: string, ...p: unknown[]) => db.prepare(q).all(...p) as Record<string, unknown>[]
    return {
      async tables() {
        return all(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        ).map((r) => String(r.name))
      },
      async columns(table) {
        return all(
          'SELECT name, type, "notnull", dflt_value FROM pragma_table_info(?) ORDER BY cid',
          table,
        ).map((r) => ({
          name: String(r.name),
          type: String(r.type).toUpperCase(),
          notNull: r.notnull === 1,
          default: r.dflt_value === null ? null : String(r.dflt_value),
        }))
      },
      async indexes(table) {
        return all(
          `SELECT l.name AS name, l."unique" AS uniq, m.sql AS sql FROM pragma_index_list(?) l
           JOIN sqlite_master m ON m.type = 'index' AND m.name = l.name
           WHERE l.origin = 'c' ORDER BY l.name`,
          table,
        ).map((r) => ({ name: String(r.name), unique: r.uniq === 1, definition: String(r.sql) }))
      },
      async rows(query, params = []) {
        return all(query, ...params)
      },
      async close() {
        db.close()
      },
    }
  }
  if (!store.dbUrl) throw new Error('PostgreSQL store without a database URL')
  const client = new pg.Client({ connectionString: store.dbUrl })
  await client.connect()
  const all = async (q: string, p: unknown[] = []) =>
    (await client.query(q, p)).rows as Record<string, unknown>[]
  return {
    async tables() {
      return (
        await all(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        )
      ).map((r) => String(r.table_name))
    },
    async columns(table) {
      return (
        await all(
          `SELECT column_name, data_type, is_nullable, column_default, is_identity FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
          [table],
        )
      ).map((r) => ({
        name: String(r.column_name),
        type: String(r.data_type),
        notNull: r.is_nullable === 'NO',
        default:
          r.is_identity === 'YES' ? 'identity' : r.column_default === null ? null : String(r.column_default),
      }))
    },
    async indexes(table) {
      return (
        await all(
          `SELECT i.indexname, i.indexdef, x.indisunique FROM pg_indexes i
           JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'
           JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
           JOIN pg_index x ON x.indexrelid = c.oid
           WHERE i.schemaname = current_schema() AND i.tablename = $1 AND NOT x.indisprimary
           ORDER BY i.indexname`,
          [table],
        )
      ).map((r) => ({
        name: String(r.indexname),
        unique: r.indisunique === true,
        definition: String(r.indexdef),
      }))
    },
    rows: (query, params) => all(query, params),
    async close() {
      await client.end()
    },
  }
}
