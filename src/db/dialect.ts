import type { Kysely, RawBuilder, SqlBool } from 'kysely'

/**
 * Any query executor: the database or a transaction. Record tables are defined at run time, so
 * queries are untyped; values are still always bound parameters.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Executor = Kysely<any>

export type DialectName = 'sqlite' | 'postgres'

/**
 * The storage kinds of record columns. Field types map onto these; the dialect renders each from a
 * fixed template, so no user text ever reaches DDL through a column definition.
 */
export type ColumnKind = 'text' | 'number' | 'bool' | 'json' | 'jsonArray' | 'geoPoint'

export interface ColumnInfo {
  readonly name: string
  /** The declared type as the database reports it (lower-cased). */
  readonly type: string
  readonly notNull: boolean
}

export interface IndexInfo {
  readonly name: string
  readonly unique: boolean
}

/** One column of a SELECT, as the database describes it without running the query. */
export interface SelectColumn {
  readonly name: string
  /** The table and column the value is read from unchanged, where the database can tell. */
  readonly table?: string | undefined
  readonly column?: string | undefined
  /** The type the database gives the column, lower-cased; '' when it has none (SQLite expressions). */
  readonly type: string
}

/** What a database error means to the API. */
export type ErrorClass =
  | { readonly kind: 'unique'; readonly columns: readonly string[] }
  | { readonly kind: 'foreignKey' }
  | { readonly kind: 'unavailable' }
  /** A text value the database cannot hold (PostgreSQL: the NUL character, invalid UTF-8). */
  | { readonly kind: 'invalidText' }
  /**
   * A value the query could not compute from the data it read (PostgreSQL's data exceptions:
   * division by zero, an invalid cast; SQLite: malformed JSON, integer overflow), as a view
   * collection's query may meet at any read.
   */
  | { readonly kind: 'dataError' }
  | { readonly kind: 'other' }

/**
 * Everything that differs between SQLite and PostgreSQL, in one place. Nothing outside
 * `db/dialects/` asks which database it runs on.
 */
export interface GalleyDialect {
  readonly name: DialectName
  /** The column type, nullability and default of a record column (DDL fragment, fixed templates). */
  columnDefinition(kind: ColumnKind, opts?: { primaryKey?: boolean }): string
  /** The DDL of the hidden insertion-order column, or undefined where the database has one (SQLite rowid). */
  rowIdColumnDefinition(): string | undefined
  /** The type of an integer primary key the database numbers itself, never reusing a value (event ids). */
  sequenceKeyDefinition(): string
  /** Double-quoted identifier; the name must already be validated by the schema. */
  quoteIdentifier(name: string): string
  /** Renders a validated literal (string, number, boolean or null) for DDL, where parameters are not allowed. */
  literal(value: string | number | boolean | null): string
  /** An index column expression for `COLLATE NOCASE`-style case-insensitive indexes. */
  caseInsensitiveIndexColumn(quotedColumn: string): string
  /**
   * An expression converting a column between single and multiple values (text <-> jsonArray), as
   * PocketBase does when a select/relation/file field's maxSelect crosses 1: '' -> [], 'a' -> ["a"],
   * and back to the last element.
   */
  convertColumn(from: ColumnKind, to: ColumnKind, quotedColumn: string): string
  /** True where the JSON array in `column` holds the string `value` (bound as a parameter). */
  jsonArrayContains(column: RawBuilder<unknown>, value: string): RawBuilder<SqlBool>
  /**
   * The type (and collation) a bound parameter is cast to so it compares like a column of `kind`
   * (a would-be or logged record in a CTE, checked against a rule): PostgreSQL's types with the
   * text columns' "C" collation, SQLite's TEXT and NUMERIC affinities. Undefined: no cast.
   */
  parameterType(kind: ColumnKind): string | undefined
  /** A value of `kind` as it is bound as a parameter. */
  encode(kind: ColumnKind, value: unknown): unknown
  /** A value of `kind` as read from a row, to its JSON form. */
  decode(kind: ColumnKind, value: unknown): unknown
  /** Serializes schema changes and migrations across processes; call inside the transaction. */
  lockSchema(trx: Executor): Promise<void>
  /**
   * Serializes the transactions that take the same `key` until each ends (PostgreSQL: a keyed
   * advisory transaction lock; SQLite: its one write lock). For checks no constraint can express,
   * such as ids unique case-insensitively or across tables: lock, check, write.
   */
  lockKey(trx: Executor, key: string): Promise<void>
  tableExists(db: Executor, table: string): Promise<boolean>
  listColumns(db: Executor, table: string): Promise<ColumnInfo[]>
  listIndexes(db: Executor, table: string): Promise<IndexInfo[]>
  classifyError(err: unknown): ErrorClass
  /**
   * The select-list expression a view column of `kind` is read through (`quotedRef` is the column
   * of the user's query, `type` what `describeSelect` said of it), so the view column stores and
   * compares like a record column of that kind: ids as text, JSON as valid JSON.
   */
  viewColumn(kind: ColumnKind, quotedRef: string, type: string): string
  /** DDL dropping a view if it exists (PostgreSQL: with the views built on it, `CASCADE`). */
  dropView(quotedName: string): string
  /** Makes the rest of the transaction read-only where the database can (PostgreSQL). */
  readOnly(trx: Executor): Promise<void>
}
