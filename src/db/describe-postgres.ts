import { sql } from 'kysely'
import type pg from 'pg'
import type { Executor, SelectColumn } from './dialect.js'

/** Starts the text of queries whose result must keep pg's field descriptions (see `instrumentClient`). */
const DESCRIBE_MARKER = '/* galley:describe */ '
const FIELDS = Symbol('galley.fields')

/** Type names of the oids a view column may have that matter to Galley; others by number. */
const TYPE_NAMES: Readonly<Record<number, string>> = {
  16: 'boolean',
  20: 'bigint',
  21: 'smallint',
  23: 'integer',
  25: 'text',
  114: 'json',
  700: 'real',
  701: 'double precision',
  1042: 'character',
  1043: 'character varying',
  1700: 'numeric',
  3802: 'jsonb',
}

type RowsWithFields = unknown[] & { [FIELDS]?: pg.FieldDef[] }

/**
 * Kysely hands back only the rows of a result. For queries starting with the describe marker this
 * keeps pg's field descriptions (origin table oid and column number, type oid) on the rows array,
 * where `describePostgresSelect` reads them. Call once per pool client.
 */
export function instrumentClient(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  const instrumented = (...args: unknown[]): unknown => {
    const result = query(...args)
    if (typeof args[0] !== 'string' || !args[0].startsWith(DESCRIBE_MARKER)) return result
    return (result as Promise<pg.QueryResult>).then((r) => {
      Object.defineProperty(r.rows, FIELDS, { value: r.fields })
      return r
    })
  }
  client.query = instrumented as typeof client.query
}

/**
 * `describeSelect` on PostgreSQL, inside the caller's transaction: the query runs as a subquery with
 * `LIMIT 0` in a read-only savepoint that is rolled back. It is sent with a bound parameter, so the
 * extended protocol refuses several statements, and a data-modifying CTE cannot sit in a subquery.
 */
export async function describePostgresSelect(trx: Executor, query: string): Promise<SelectColumn[]> {
  if (!trx.isTransaction) throw new Error('describeSelect runs inside a transaction')
  await sql`SAVEPOINT galley_describe`.execute(trx)
  let fields: pg.FieldDef[]
  try {
    await sql`SET TRANSACTION READ ONLY`.execute(trx)
    const probe = `${DESCRIBE_MARKER}SELECT * FROM (\n${query}\n) AS "_galley_describe" LIMIT `
    const r = await sql`${sql.raw(probe)}${0}`.execute(trx)
    const described = (r.rows as RowsWithFields)[FIELDS]
    if (!described) throw new Error('the database client is not instrumented for describeSelect')
    fields = described
  } finally {
    await sql`ROLLBACK TO SAVEPOINT galley_describe`.execute(trx)
    await sql`RELEASE SAVEPOINT galley_describe`.execute(trx)
  }
  const tables = [...new Set(fields.map((f) => f.tableID).filter((id) => id !== 0))]
  const origins = new Map<string, { table: string; column: string }>()
  if (tables.length > 0) {
    const r = await sql<{
      tid: number
      num: number
      table: string
      column: string
    }>`SELECT c.oid::bigint AS tid, a.attnum::int AS num, c.relname AS "table", a.attname AS "column" FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid::bigint = ANY(${tables}::bigint[]) AND a.attnum > 0 AND n.nspname = current_schema()`.execute(
      trx,
    )
    for (const o of r.rows) origins.set(`${o.tid}:${o.num}`, { table: o.table, column: o.column })
  }
  return fields.map((f) => {
    const origin = origins.get(`${f.tableID}:${f.columnID}`)
    return {
      name: f.name,
      table: origin?.table,
      column: origin?.column,
      type: TYPE_NAMES[f.dataTypeID] ?? `oid ${f.dataTypeID}`,
    }
  })
}
