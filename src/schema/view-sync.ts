import { sql } from 'kysely'
import type { Database, Executor, GalleyDialect, SelectColumn } from '../db/index.js'
import { badRequest, fieldError, ValidationErrors, type FieldError } from '../lib/index.js'
import type { Collection, Field } from './collection.js'
import { columnKind } from './table-sync.js'
import { invalidViewQuery, viewQueryError } from './validate-collection.js'
import { inferViewFields, type ViewFieldsContext } from './view-fields.js'
import { MAX_VIEW_QUERY_LENGTH, normalizeViewQuery } from './view-query.js'

/** The user's query inside a view's definition is a subquery under this alias. */
const SOURCE = '_galley_view'

/** A refusal of the view query that no retry can change: `item` goes to data.viewQuery. */
export class ViewQueryError extends Error {
  readonly item: FieldError

  constructor(item: FieldError) {
    super(item.message)
    this.item = item
  }
}

export interface ViewDefinition {
  readonly fields: Field[]
  /** `SELECT <columns as their field kinds> FROM (<query>) AS _galley_view`: the view's body. */
  readonly select: string
}

/**
 * Describes a view query inside `trx` and infers its fields (§6.6). The view's SELECT reads each
 * column through `dialect.viewColumn`, so it stores and compares like a record column of its
 * field's kind (ids are text, JSON is JSON). Throws `ViewQueryError` for what the query text or
 * inference refuses, the database's error for what the database refuses.
 */
export async function defineView(
  database: Database,
  trx: Executor,
  query: string,
  ctx: ViewFieldsContext,
): Promise<ViewDefinition> {
  const problem = viewQueryError(query)
  if (problem) throw new ViewQueryError(problem)
  const text = normalizeViewQuery(query)
  const columns = await database.describeSelect(trx, text)
  const inferred = inferViewFields(text, columns, ctx)
  if (inferred.problem !== undefined) throw new ViewQueryError(invalidViewQuery(inferred.problem))
  return { fields: inferred.fields, select: viewSelect(database.dialect, text, columns, inferred.fields) }
}

function viewSelect(
  d: GalleyDialect,
  query: string,
  columns: readonly SelectColumn[],
  fields: readonly Field[],
): string {
  const q = (name: string) => d.quoteIdentifier(name)
  const list = fields.map((f, i) => {
    const col = columns[i]!
    return `${d.viewColumn(columnKind(f), `${q(SOURCE)}.${q(col.name)}`, col.type)} AS ${q(f.name)}`
  })
  // The newline ends a trailing `--` comment of the query.
  return `SELECT ${list.join(', ')} FROM (\n${query}\n) AS ${q(SOURCE)}`
}

/** Drops the views of these collections (DDL; names are validated collection names). */
export async function dropViews(
  trx: Executor,
  d: GalleyDialect,
  views: readonly Collection[],
): Promise<void> {
  for (const v of views) await sql.raw(d.dropView(d.quoteIdentifier(v.name))).execute(trx)
}

export interface ViewJob {
  /** The view as it will be stored; its fields are replaced by the inferred ones. */
  readonly next: Collection
  readonly prev?: Collection | undefined
  /** A view the request creates or changes (validated, errors on its `viewQuery`), or a stored one rebuilt. */
  readonly requested: boolean
}

export interface ViewFailure {
  readonly job: ViewJob
  /** Paths relative to the collection (`viewQuery`, `fields.2.name`, `listRule`...). */
  readonly errors: ValidationErrors
  /** The first reason, for messages about views the request did not touch. */
  readonly reason: string
}

/**
 * (Re)creates the views of `jobs` inside `trx`, each in a savepoint. A view may read another view
 * of the list, so the database's refusals are retried while some other view got built; what the
 * query text, inference or validation refuse is final. `validate` checks a requested view once its
 * fields are known. Returns the views that could not be built (none: all were).
 */
export async function buildViews(
  database: Database,
  trx: Executor,
  jobs: readonly ViewJob[],
  universe: readonly Collection[],
  validate: (job: ViewJob, errors: ValidationErrors) => void,
): Promise<ViewFailure[]> {
  const d = database.dialect
  const failures: ViewFailure[] = []
  let pending = [...jobs]
  while (pending.length > 0) {
    const retry: ViewFailure[] = []
    for (const job of pending) {
      await sql`SAVEPOINT galley_view`.execute(trx)
      const fail = (reason: string, errors: ValidationErrors) => ({ job, reason, errors })
      const queryFail = (item: FieldError, reason: string) =>
        fail(reason, new ValidationErrors().add(['viewQuery'], item))
      try {
        const def = await defineView(database, trx, job.next.viewQuery ?? '', {
          collections: universe.filter((c) => c.id !== job.next.id),
          previous: job.next.fields,
        })
        job.next.fields = def.fields
        const errors = new ValidationErrors()
        if (job.requested) validate(job, errors)
        if (!errors.empty) {
          failures.push(fail('invalid collection', errors))
          await sql`ROLLBACK TO SAVEPOINT galley_view`.execute(trx)
        } else {
          // The one DDL holding user text, on purpose: a superuser's query, which describeSelect
          // has just accepted in this transaction as exactly one read-only SELECT (PostgreSQL: a
          // single statement in the extended protocol), here only ever inside parentheses.
          await sql.raw(`CREATE VIEW ${d.quoteIdentifier(job.next.name)} AS ${def.select}`).execute(trx)
        }
      } catch (err) {
        await sql`ROLLBACK TO SAVEPOINT galley_view`.execute(trx)
        const reason = (err as Error).message
        if (err instanceof ViewQueryError) failures.push(queryFail(err.item, reason))
        else if (d.classifyError(err).kind === 'unavailable') throw err
        else retry.push(queryFail(invalidViewQuery(reason), reason))
      } finally {
        await sql`RELEASE SAVEPOINT galley_view`.execute(trx)
      }
    }
    const progressed = retry.length < pending.length
    pending = retry.map((f) => f.job)
    if (!progressed) {
      failures.push(...retry)
      break
    }
  }
  return failures
}

/** Rows a dry run returns at most. */
export const DRY_RUN_SAMPLE = 10

export interface DryRunResult {
  readonly fields: Field[]
  readonly sample: Record<string, unknown>[]
}

/**
 * A view query's fields and up to `DRY_RUN_SAMPLE` of its rows as records, read through the view
 * body the collection would get, in a read-only transaction. `collections` is the current schema.
 */
export async function dryRunView(
  database: Database,
  collections: readonly Collection[],
  query: unknown,
): Promise<DryRunResult> {
  const text = typeof query === 'string' ? query : ''
  const invalid = (err: FieldError) =>
    badRequest('An error occurred while validating the submitted data.', { query: err })
  if (text.trim() === '') throw invalid(fieldError('validation_required', 'Cannot be blank.'))
  if (text.length > MAX_VIEW_QUERY_LENGTH)
    throw invalid(
      fieldError('validation_length_too_long', `The length must be no more than ${MAX_VIEW_QUERY_LENGTH}.`),
    )
  const d = database.dialect
  return database.transaction(async (trx) => {
    await d.readOnly(trx)
    try {
      const view = await defineView(database, trx, text, { collections, previous: [] })
      const rows = await sql<
        Record<string, unknown>
      >`${sql.raw(view.select)} LIMIT ${DRY_RUN_SAMPLE}`.execute(trx)
      const sample = rows.rows.map((row) => {
        const record: Record<string, unknown> = { collectionId: '', collectionName: '' }
        for (const f of view.fields)
          if (f.type !== 'password') record[f.name] = d.decode(columnKind(f), row[f.name])
        return record
      })
      return { fields: view.fields, sample }
    } catch (err) {
      if (!(err instanceof ViewQueryError) && d.classifyError(err).kind === 'unavailable') throw err
      const item = err instanceof ViewQueryError ? err.item : invalidViewQuery((err as Error).message)
      throw badRequest('Failed to dry-run the view query.', { query: item }, err)
    }
  })
}
