import type { CompiledQuery } from 'kysely'
import type { Executor } from './dialect.js'

/** Shapes (sets of columns) kept per owner; past this, a write of a new shape compiles anew each time. */
export const MAX_WRITE_SHAPES = 32

type Row = Record<string, unknown>

/**
 * Record writes compiled once per shape. Building a Kysely query costs about as much as running a
 * one-row insert on SQLite, and a table's writes come in few shapes: the same table, the same
 * columns written and returned compile to the same SQL, with the values as parameters in column
 * order. So the SQL of a shape is kept (per `owner`: an object that lives as long as the table's
 * definition, such as a collection's schema) and each write binds its own values. A shape is kept
 * only after checking that its compiled parameters are exactly its values, in order; anything else
 * (an expression among the values) runs as Kysely builds it. Values never enter the SQL text.
 */
export class CompiledWrites {
  readonly #shapes = new WeakMap<object, Map<string, CompiledQuery>>()

  /**
   * `INSERT INTO table (columns of row) VALUES (…) RETURNING returning`: the row written. `wrap`
   * may turn the bound statement into another one returning that row (it keeps the statement's
   * parameters and appends its own).
   */
  async insert(
    owner: object,
    ex: Executor,
    table: string,
    row: Row,
    returning: readonly string[],
    wrap?: (insert: CompiledQuery) => CompiledQuery,
  ) {
    const columns = definedColumns(row)
    const values = columns.map((k) => row[k])
    return this.#run(
      owner,
      ex,
      `i\0${table}\0${columns.join('\0')}\0\0${returning.join('\0')}`,
      values,
      wrap,
      () =>
        ex
          .insertInto(table)
          .values(Object.fromEntries(columns.map((k) => [k, row[k]])))
          .returning(returning)
          .compile(),
    )
  }

  /** `UPDATE table SET (columns of row) WHERE id = id RETURNING returning`: the row written, if any. */
  async update(
    owner: object,
    ex: Executor,
    table: string,
    row: Row,
    id: string,
    returning: readonly string[],
  ) {
    const columns = definedColumns(row)
    const values = [...columns.map((k) => row[k]), id]
    return this.#run(
      owner,
      ex,
      `u\0${table}\0${columns.join('\0')}\0\0${returning.join('\0')}`,
      values,
      undefined,
      () =>
        ex
          .updateTable(table)
          .set(Object.fromEntries(columns.map((k) => [k, row[k]])))
          .where('id', '=', id)
          .returning(returning)
          .compile(),
    )
  }

  async #run(
    owner: object,
    ex: Executor,
    key: string,
    values: readonly unknown[],
    wrap: ((q: CompiledQuery) => CompiledQuery) | undefined,
    build: () => CompiledQuery,
  ): Promise<Row | undefined> {
    // plugins (batch's abort) see each query as it is built: nothing is kept for them
    if (ex.getExecutor().plugins.length > 0) {
      const built = build()
      return (await ex.executeQuery<Row>(wrap ? wrap(built) : built)).rows[0]
    }
    let shapes = this.#shapes.get(owner)
    const kept = shapes?.get(key)
    let query: CompiledQuery
    if (kept) query = { ...kept, parameters: values }
    else {
      query = build()
      const same =
        query.parameters.length === values.length && query.parameters.every((p, i) => p === values[i])
      if (same) {
        if (!shapes) this.#shapes.set(owner, (shapes = new Map()))
        if (shapes.size < MAX_WRITE_SHAPES) shapes.set(key, query)
      }
    }
    return (await ex.executeQuery<Row>(wrap ? wrap(query) : query)).rows[0]
  }
}

/** Kysely leaves out columns whose value is undefined (the column's default applies): so does a shape. */
function definedColumns(row: Row): string[] {
  return Object.keys(row).filter((k) => row[k] !== undefined)
}
