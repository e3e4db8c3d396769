/**
 * Index statements as a collection's `indexes` array holds them (pocketbase-api.md §6.5):
 * `CREATE [UNIQUE] INDEX name ON table (col, …)`. The server parses and normalizes them; the
 * dashboard only writes simple ones and reads back their name, uniqueness and columns for display.
 */

export interface IndexSummary {
  readonly name: string
  readonly unique: boolean
  /** The text between the parentheses, as written. */
  readonly columns: string
  /** What follows the column list (a `WHERE` clause), if anything. */
  readonly rest: string
}

const quote = (identifier: string) => '`' + identifier.replaceAll('`', '``') + '`'

/** A short random suffix keeping index names unique across the database. */
function suffix(): string {
  return Math.random().toString(36).slice(2, 7).padEnd(5, '0')
}

/** A readable index name: `idx_<table>_<first column>_<random>`, within the 63-character limit. */
export function indexName(table: string, columns: readonly string[]): string {
  const base = `idx_${table || 'new'}_${columns[0] ?? ''}`.replace(/\W/g, '_').slice(0, 50)
  return `${base}_${suffix()}`
}

/** `CREATE [UNIQUE] INDEX name ON table (a, b)` with quoted identifiers. */
export function indexStatement(
  name: string,
  table: string,
  columns: readonly string[],
  unique: boolean,
): string {
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${quote(name)} ON ${quote(table || 'new')} (${columns.map(quote).join(', ')})`
}

const SHAPE =
  /^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?([`"[]?)([^`"\]\s(]+)[`"\]]?\s+ON\s+\S+\s*\((.*?)\)\s*((?:WHERE\b.*)?)$/is

/** Name, uniqueness and columns of a statement, or undefined for a shape it does not know. */
export function summarizeIndex(statement: string): IndexSummary | undefined {
  const m = SHAPE.exec(statement)
  if (!m) return undefined
  return {
    name: m[3]!,
    unique: !!m[1],
    columns: m[4]!.replace(/[`"[\]]/g, '').trim(),
    rest: m[5]!.trim(),
  }
}
