import { sql, type SqlBool } from 'kysely'
import type { Executor, ColumnInfo, ColumnKind, ErrorClass, GalleyDialect, IndexInfo } from '../dialect.js'
import { decodeJson, quoteDouble, renderLiteral } from './shared.js'

const COLUMN: Record<ColumnKind, string> = {
  // "C" collation: comparisons and ORDER BY by code point, like SQLite's BINARY, whatever the server locale.
  text: `TEXT COLLATE "C" NOT NULL DEFAULT ''`,
  number: `DOUBLE PRECISION NOT NULL DEFAULT 0`,
  bool: `BOOLEAN NOT NULL DEFAULT FALSE`,
  json: `JSONB DEFAULT NULL`,
  jsonArray: `JSONB NOT NULL DEFAULT '[]'::jsonb`,
  geoPoint: `JSONB NOT NULL DEFAULT '{"lon":0,"lat":0}'::jsonb`,
}

const PARAMETER_TYPES: Record<ColumnKind, string> = {
  text: 'text',
  number: 'double precision',
  bool: 'boolean',
  json: 'jsonb',
  jsonArray: 'jsonb',
  geoPoint: 'jsonb',
}

/** An arbitrary constant naming Galley's migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 0x6a11e7
/** The first half of keyed locks (`lockKey`); the two-int4 key space never meets the bigint one. */
const KEYED_LOCK_SPACE = 0x6a11e8

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '57014',
])
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'connect ECONNREFUSED',
  'Cannot use a pool after calling end',
]

export const postgresDialect: GalleyDialect = {
  name: 'postgres',

  columnDefinition(kind, opts) {
    if (opts?.primaryKey) return 'TEXT COLLATE "C" PRIMARY KEY NOT NULL'
    return COLUMN[kind]
  },

  // PostgreSQL has no implicit insertion order; `_rowid_` gives `@rowid` sorting the same meaning as on SQLite.
  rowIdColumnDefinition: () => `"_rowid_" BIGINT GENERATED ALWAYS AS IDENTITY`,

  sequenceKeyDefinition: () => 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',

  quoteIdentifier: quoteDouble,

  literal: renderLiteral,

  caseInsensitiveIndexColumn: (quoted) => `lower(${quoted})`,

  convertColumn(from, to, col) {
    if (from === 'text' && to === 'jsonArray')
      return `CASE WHEN ${col} = '' THEN '[]'::jsonb ELSE jsonb_build_array(${col}) END`
    if (from === 'jsonArray' && to === 'text')
      return `COALESCE(CASE WHEN jsonb_typeof(${col}) = 'array' THEN ${col} ->> -1 ELSE ${col} #>> '{}' END, '')`
    return col
  },

  jsonArrayContains: (column, value) => sql<SqlBool>`${column} @> jsonb_build_array(${value}::text)`,

  parameterType: (kind) => PARAMETER_TYPES[kind],

  encode(kind, value) {
    switch (kind) {
      case 'bool':
        return Boolean(value)
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
        return value === true || value === 't' || value === 1
      case 'json':
        // pg has parsed the jsonb already: a JSON string such as "123" stays a string.
        return value === undefined ? null : value
      default:
        return decodeJson(kind, value)
    }
  },

  async lockSchema(trx) {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(trx)
  },

  async lockKey(trx, key) {
    // Keys hashing alike only wait for each other more often than needed.
    await sql`SELECT pg_advisory_xact_lock(${KEYED_LOCK_SPACE}, hashtext(${key}))`.execute(trx)
  },

  async tableExists(db, table) {
    const r = await sql<{
      n: number
    }>`SELECT count(*)::int AS n FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND lower(c.relname) = lower(${table}) AND c.relkind IN ('r','v','m','p')`.execute(
      db,
    )
    return (r.rows[0]?.n ?? 0) > 0
  },

  async listColumns(db: Executor, table: string): Promise<ColumnInfo[]> {
    const r = await sql<{
      name: string
      type: string
      nullable: string
    }>`SELECT column_name AS name, data_type AS type, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`.execute(
      db,
    )
    return r.rows.map((c) => ({ name: c.name, type: c.type.toLowerCase(), notNull: c.nullable === 'NO' }))
  },

  async listIndexes(db: Executor, table: string): Promise<IndexInfo[]> {
    const r = await sql<{
      name: string
      unique: boolean
    }>`SELECT i.relname AS name, ix.indisunique AS unique FROM pg_catalog.pg_index ix JOIN pg_catalog.pg_class t ON t.oid = ix.indrelid JOIN pg_catalog.pg_class i ON i.oid = ix.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = current_schema() AND t.relname = ${table} AND NOT ix.indisprimary ORDER BY i.relname`.execute(
      db,
    )
    return r.rows.map((i) => ({ name: i.name, unique: i.unique }))
  },

  classifyError(err: unknown): ErrorClass {
    const e = err as { code?: unknown; message?: unknown; detail?: unknown }
    const code = typeof e?.code === 'string' ? e.code : ''
    const message = typeof e?.message === 'string' ? e.message : ''
    if (code === '23505') {
      // detail: Key (title, lower(slug))=(a, b) already exists.
      const detail = typeof e.detail === 'string' ? e.detail : ''
      const inner = /^Key \((.*)\)=\(/.exec(detail)?.[1] ?? ''
      const cols = inner
        .split(',')
        .map((p) =>
          p
            .trim()
            .replace(/^lower\((.*)\)$/i, '$1')
            .replace(/^"(.*)"$/, '$1'),
        )
        .filter((c) => /^\w+$/.test(c))
      return { kind: 'unique', columns: cols }
    }
    if (code === '23503') return { kind: 'foreignKey' }
    // invalid byte sequence (a NUL in a text parameter), untranslatable character (\u0000 in jsonb)
    if (code === '22021' || code === '22P05') return { kind: 'invalidText' }
    if (code.startsWith('22')) return { kind: 'dataError' }
    if (
      UNAVAILABLE_CODES.has(code) ||
      code.startsWith('08') ||
      UNAVAILABLE_MESSAGES.some((m) => message.includes(m))
    )
      return { kind: 'unavailable' }
    return { kind: 'other' }
  },

  viewColumn(kind, ref, type) {
    switch (kind) {
      // "C" like record columns, whatever the expression's own collation.
      case 'text':
        return type === 'text' ? `${ref} COLLATE "C"` : `CAST(${ref} AS TEXT) COLLATE "C"`
      case 'number':
        return type === 'double precision' ? ref : `CAST(${ref} AS DOUBLE PRECISION)`
      case 'bool':
        return type === 'boolean' ? ref : `CAST(${ref} AS BOOLEAN)`
      default:
        if (type === 'jsonb') return ref
        return type === 'json' ? `CAST(${ref} AS JSONB)` : `to_jsonb(${ref})`
    }
  },

  // Views built on this one would refuse the drop; the schema service re-creates every view it drops.
  dropView: (quoted) => `DROP VIEW IF EXISTS ${quoted} CASCADE`,

  async readOnly(trx) {
    await sql`SET TRANSACTION READ ONLY`.execute(trx)
  },
}
