import { sql } from 'kysely'
import type { ColumnKind, Executor, GalleyDialect } from '../db/index.js'
import type { Collection, Field } from './collection.js'
import { FIELD_TYPES } from './fields/index.js'
import { emitIndexSql, parseIndexStatement } from './index-statement.js'

/** The storage kind of a field's column. */
export function columnKind(field: Field): ColumnKind {
  const ft = FIELD_TYPES.get(field.type)
  if (!ft) throw new Error(`unknown field type ${field.type}`)
  return ft.column(field)
}

/**
 * DDL runs as raw text, but nothing in it comes from a request as is: identifiers are validated
 * `\w+` names quoted by the dialect, column types are the dialect's fixed templates, and index
 * statements were parsed and re-emitted from their AST.
 */
async function exec(trx: Executor, text: string): Promise<void> {
  await sql.raw(text).execute(trx)
}

function columnDdl(d: GalleyDialect, f: Field): string {
  const primaryKey = f.name === 'id' && f.primaryKey === true
  return `${d.quoteIdentifier(f.name)} ${d.columnDefinition(columnKind(f), { primaryKey })}`
}

function indexSql(d: GalleyDialect, c: Collection): string[] {
  return c.indexes.map((text) => emitIndexSql(parseIndexStatement(text), c.name, d))
}

function indexName(text: string): string {
  return parseIndexStatement(text).name
}

/**
 * Brings the records table of `next` in line with it (`prev` = the stored version, undefined on
 * create). Fields are matched by id, so a rename keeps its data; a single/multiple change converts
 * values. Runs inside the caller's transaction: a failure leaves table and schema as they were.
 */
export async function syncTable(
  trx: Executor,
  d: GalleyDialect,
  prev: Collection | undefined,
  next: Collection,
): Promise<void> {
  // Views are built by view-sync.ts, after every table is in place.
  if (next.type === 'view') return
  const q = (n: string) => d.quoteIdentifier(n)

  if (!prev) {
    const cols = next.fields.map((f) => columnDdl(d, f))
    const rowId = d.rowIdColumnDefinition()
    if (rowId) cols.push(rowId)
    await exec(trx, `CREATE TABLE ${q(next.name)} (${cols.join(', ')})`)
    for (const s of indexSql(d, next)) await exec(trx, s)
    return
  }

  // Indexes go first: SQLite cannot drop or convert an indexed column.
  for (const text of prev.indexes) await exec(trx, `DROP INDEX IF EXISTS ${q(indexName(text))}`)
  if (prev.name !== next.name) {
    // SQLite refuses a rename that only changes letter case ("another table with this name"), so
    // such a rename goes through a temporary name; PostgreSQL needs it done (quoted names are exact).
    if (prev.name.toLowerCase() === next.name.toLowerCase()) {
      const tmp = q(`_galley_tmp_${next.id}`)
      await exec(trx, `ALTER TABLE ${q(prev.name)} RENAME TO ${tmp}`)
      await exec(trx, `ALTER TABLE ${tmp} RENAME TO ${q(next.name)}`)
    } else await exec(trx, `ALTER TABLE ${q(prev.name)} RENAME TO ${q(next.name)}`)
  }
  const table = q(next.name)

  const nextIds = new Set(next.fields.map((f) => f.id))
  for (const old of prev.fields) {
    if (!nextIds.has(old.id)) await exec(trx, `ALTER TABLE ${table} DROP COLUMN ${q(old.name)}`)
  }
  // Renames via temporary names first, so swapping two field names cannot collide.
  const renamed = next.fields.filter((f) => {
    const old = prev.fields.find((o) => o.id === f.id)
    return old && old.name !== f.name
  })
  for (const f of renamed) {
    const old = prev.fields.find((o) => o.id === f.id)!
    await exec(trx, `ALTER TABLE ${table} RENAME COLUMN ${q(old.name)} TO ${q(`_galley_tmp_${f.id}`)}`)
  }
  for (const f of renamed)
    await exec(trx, `ALTER TABLE ${table} RENAME COLUMN ${q(`_galley_tmp_${f.id}`)} TO ${q(f.name)}`)

  for (const f of next.fields) {
    const old = prev.fields.find((o) => o.id === f.id)
    if (!old) {
      await exec(trx, `ALTER TABLE ${table} ADD COLUMN ${columnDdl(d, f)}`)
      continue
    }
    const from = columnKind(old)
    const to = columnKind(f)
    if (from === to) continue
    const tmp = q(`_galley_old_${f.id}`)
    await exec(trx, `ALTER TABLE ${table} RENAME COLUMN ${q(f.name)} TO ${tmp}`)
    await exec(trx, `ALTER TABLE ${table} ADD COLUMN ${columnDdl(d, f)}`)
    await exec(trx, `UPDATE ${table} SET ${q(f.name)} = ${d.convertColumn(from, to, tmp)}`)
    await exec(trx, `ALTER TABLE ${table} DROP COLUMN ${tmp}`)
  }

  for (const s of indexSql(d, next)) await exec(trx, s)
}

export async function dropTable(trx: Executor, d: GalleyDialect, c: Collection): Promise<void> {
  if (c.type === 'view') {
    await exec(trx, d.dropView(d.quoteIdentifier(c.name)))
    return
  }
  await exec(trx, `DROP TABLE IF EXISTS ${d.quoteIdentifier(c.name)}`)
}
