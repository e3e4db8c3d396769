import { sql, type SqlBool } from 'kysely'
import type { Executor, ColumnInfo, ColumnKind, ErrorClass, GalleyDialect, IndexInfo } from '../dialect.js'
import { decodeJson, quoteDouble, renderLiteral } from './shared.js'

const COLUMN: Record<ColumnKind, string> = {
  text: `TEXT DEFAULT '' NOT NULL`,
  number: `NUMERIC DEFAULT 0 NOT NULL`,
  bool: `BOOLEAN DEFAULT FALSE NOT NULL`,
  json: `JSON DEFAULT NULL`,
  jsonArray: `JSON DEFAULT '[]' NOT NULL`,
  geoPoint: `JSON DEFAULT '{"lon":0,"lat":0}' NOT NULL`,
}

export const sqliteDialect: GalleyDialect = {
  name: 'sqlite',

  columnDefinition(kind, opts) {
    if (opts?.primaryKey) return 'TEXT PRIMARY KEY NOT NULL'
    return COLUMN[kind]
  },

  // SQLite tables already have an insertion-ordered `_rowid_`.
  rowIdColumnDefinition: () => undefined,

  // AUTOINCREMENT: without it SQLite reuses the largest id once that row is deleted
  sequenceKeyDefinition: () => 'INTEGER PRIMARY KEY AUTOINCREMENT',

  quoteIdentifier: quoteDouble,

  literal: renderLiteral,

  caseInsensitiveIndexColumn: (quoted) => `${quoted} COLLATE NOCASE`,

  convertColumn(from, to, col) {
    if (from === 'text' && to === 'jsonArray')
      return `CASE WHEN ${col} = '' THEN '[]' ELSE json_array(${col}) END`
    if (from === 'jsonArray' && to === 'text')
      return `COALESCE((SELECT value FROM json_each(CASE WHEN json_valid(${col}) THEN ${col} ELSE '[]' END) ORDER BY key DESC LIMIT 1), '')`
    return col
  },

  jsonArrayContains: (column, value) =>
    sql<SqlBool>`EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(${column}) THEN ${column} ELSE '[]' END) WHERE value = ${value})`,

  // a CAST gives the CTE's column the affinity of the table's: '5' > '10' as numbers, not texts
  parameterType: (kind) =>
    kind === 'text' ? 'TEXT' : kind === 'number' || kind === 'bool' ? 'NUMERIC' : undefined,

  encode(kind, value) {
    switch (kind) {
      case 'bool':
        return value ? 1 : 0
      case 'json':
        return value === null || value === undefined ? null : JSON.stringify(value)
      case 'jsonArray':
      case 'geoPoint':
        return JSON.stringify(value)
      default:
        return value
    }
  },

  decode(kind, value) {
    switch (kind) {
      case 'text':
        return value === null || value === undefined ? '' : String(value)
      case 'number':
        return value === null || value === undefined ? 0 : Number(value)
      case 'bool':
        return value === 1 || value === true || value === '1' || value === 'true'
      default:
        return decodeJson(kind, value)
    }
  },

  async lockSchema(trx) {
    // Any write statement takes SQLite's RESERVED lock for the rest of the transaction; another
    // process waits on busy_timeout and then re-reads what was applied.
    await sql`UPDATE "_migrations" SET "name" = "name" WHERE 0`.execute(trx)
  },

  async lockKey(trx) {
    // One writer at a time already: take the write lock now, so the check that follows sees the
    // last committed state and nothing can commit before this transaction ends.
    await sqliteDialect.lockSchema(trx)
  },

  async tableExists(db, table) {
    const r = await sql<{
      n: number
    }>`SELECT count(*) AS n FROM sqlite_master WHERE type IN ('table','view') AND name = ${table} COLLATE NOCASE`.execute(
      db,
    )
    return (r.rows[0]?.n ?? 0) > 0
  },

  async listColumns(db: Executor, table: string): Promise<ColumnInfo[]> {
    const r = await sql<{
      name: string
      type: string
      notnull: number
      pk: number
    }>`SELECT name, type, "notnull", pk FROM pragma_table_info(${table})`.execute(db)
    return r.rows.map((c) => ({
      name: c.name,
      type: c.type.toLowerCase(),
      notNull: c.notnull === 1 || c.pk === 1,
    }))
  },

  async listIndexes(db: Executor, table: string): Promise<IndexInfo[]> {
    const r = await sql<{
      name: string
      unique: number
      origin: string
    }>`SELECT name, "unique", origin FROM pragma_index_list(${table})`.execute(db)
    return r.rows.filter((i) => i.origin === 'c').map((i) => ({ name: i.name, unique: i.unique === 1 }))
  },

  classifyError(err: unknown): ErrorClass {
    const e = err as { code?: unknown; message?: unknown }
    const code = typeof e?.code === 'string' ? e.code : ''
    const message = typeof e?.message === 'string' ? e.message : ''
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      // "UNIQUE constraint failed: posts.title, posts.slug" or "... index 'idx_x'"
      const cols = message
        .replace(/^.*constraint failed:\s*/i, '')
        .split(',')
        .map((part) => part.trim().split('.').pop() ?? '')
        .filter((c) => /^\w+$/.test(c))
      return { kind: 'unique', columns: cols }
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return { kind: 'foreignKey' }
    if (code === 'SQLITE_ERROR' && /^(malformed JSON|integer overflow)$/.test(message))
      return { kind: 'dataError' }
    if (
      code === 'SQLITE_BUSY' ||
      code === 'SQLITE_LOCKED' ||
      code === 'SQLITE_IOERR' ||
      code === 'SQLITE_FULL'
    )
      return { kind: 'unavailable' }
    return { kind: 'other' }
  },

  viewColumn(kind, ref, type) {
    // Text affinity comes from the declared type of the column read; expressions have none, so an
    // integer id would never equal the text a filter binds.
    if (kind === 'text') return /char|clob|text/.test(type) ? ref : `CAST(${ref} AS TEXT)`
    // PocketBase reads a JSON view column as JSON when it is valid JSON, else as a JSON string.
    if (kind === 'json')
      return type === 'json' ? ref : `CASE WHEN json_valid(${ref}) THEN ${ref} ELSE json_quote(${ref}) END`
    return ref
  },

  dropView: (quoted) => `DROP VIEW IF EXISTS ${quoted}`,

  // A SELECT cannot write on SQLite (no data-modifying CTEs); describeSelect refuses anything else.
  async readOnly() {},
}
