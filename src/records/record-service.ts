import { sql, type CompiledQuery, type SqlBool } from 'kysely'
import {
  CompiledWrites,
  paginate,
  type Database,
  type Executor,
  type ListParams,
  type ListResult,
} from '../db/index.js'
import {
  GalleyError,
  badRequest,
  isJsonObject,
  notFound,
  silentLogger,
  type Json,
  type Logger,
} from '../lib/index.js'
import {
  compileRecordFilter,
  compileRecordSort,
  ruleCondition,
  type RequestContext,
  type RuleEnv,
} from '../rules/index.js'
import type { Collection, CollectionService, RuleKey } from '../schema/index.js'
import { FilterError } from '../filter/index.js'
import { MANAGED, managedExpression, rowToJSON, type RecordJSON, type RecordRow } from './serialize.js'
import { expandRecords, type ExpandEnv } from './expand.js'
import { planExpand, type ExpandNode } from './expand-plan.js'
import { deleteRecord, type CascadeChange } from './record-delete.js'
import { readImage, type ImageReader } from './image-read.js'
import { isSuperuserRequest } from './request.js'
import {
  createIsOneStatement,
  newFileChanges,
  saveRecord,
  type FileChanges,
  type PasswordHasher,
} from './record-write.js'
import { thumbsPrefix, type FileStore } from './uploads.js'

/** Per-call options of the records service. */
export interface RecordOptions {
  /** The request's `?expand=` (§5.2): relation paths to expand on the returned records. */
  readonly expand?: string | undefined
  /** Run inside this transaction (batch, §12) instead of the service's own. */
  readonly executor?: Executor | undefined
  /**
   * With `executor`: where writes put their changes, for the transaction's owner to pass to
   * `announce` once it commits (a write inside someone else's transaction cannot know when, or
   * whether, that happens). Without it such writes announce nothing.
   */
  readonly changes?: RecordChange[] | undefined
  /**
   * With `executor`: where writes put the files they stored and made obsolete, for the
   * transaction's owner to pass to `settleFiles` once it committed or failed (batch). Without it
   * the files a failed write stored are removed, and obsolete ones are left for the orphan sweep.
   */
  readonly files?: FileChanges | undefined
}

/** One committed write: the stored row after a create or update, the row as it was before a delete. */
export interface RecordChange {
  readonly collection: Collection
  readonly action: 'create' | 'update' | 'delete'
  readonly row: RecordRow
}

/** Told of every committed write, after its commit, in commit order (realtime). */
export type CommittedListener = (changes: readonly RecordChange[]) => void

/**
 * Told of a transaction's writes inside it, just before its commit, to write what must commit with
 * them (realtime's event log on PostgreSQL). Its failure fails the transaction.
 */
export type CommittingListener = (executor: Executor, changes: readonly RecordChange[]) => Promise<void>

/**
 * The column an inline create's statement adds to the row it returns (InlineCommitting): not a
 * possible field name (`^\w+$`), so it never shadows one.
 */
export const COMMITTED_COLUMN = 'galley:committed'

/**
 * What the committing listener would write for a create, written by the create's own statement
 * instead (PostgreSQL: a data-modifying CTE), so a create that is one statement stays one, with no
 * BEGIN and COMMIT around it. `wrapInsert` turns the bound `INSERT … RETURNING` of `c` into that
 * statement: it returns the same row plus COMMITTED_COLUMN, whose value `written` receives with the
 * change once the statement ran (it committed with it).
 */
export interface InlineCommitting {
  wrapInsert(c: Collection, insert: CompiledQuery): CompiledQuery
  written(change: RecordChange, value: unknown): void
}

/**
 * The records service (§3): list, view, create, update and delete, every one through the rules of
 * `rules/`. Transports call these with plain input and get plain JSON back.
 */
export class RecordService {
  readonly #database: Database
  readonly #collections: CollectionService
  readonly #passwords: PasswordHasher
  readonly #writes = new CompiledWrites()
  readonly #logger: Logger
  readonly #byIdQueries = new WeakMap<Collection, CompiledQuery>()
  #files: (() => FileStore) | undefined
  readonly #onCommitted: CommittedListener | undefined
  #onCommitting: CommittingListener | undefined
  #inline: InlineCommitting | undefined

  constructor(
    database: Database,
    collections: CollectionService,
    passwords: PasswordHasher,
    logger: Logger = silentLogger,
    onCommitted?: CommittedListener,
  ) {
    this.#database = database
    this.#collections = collections
    this.#passwords = passwords
    this.#logger = logger
    this.#onCommitted = onCommitted
    // A deleted collection's storage folder goes once the deletion committed (§10.1: files live
    // under `<collectionId>/`); views store none.
    collections.onDeleted(async (deleted) => {
      const gone = deleted.filter((c) => c.type !== 'view').map((c) => `${c.id}/`)
      await this.#removeFiles(this.fileStore, [], gone)
    })
  }

  /**
   * Passes committed changes to the listener. Called by the service for its own transactions, and
   * by the owner of a transaction given as `executor` (batch) with its `changes` after the commit.
   */
  announce(changes: readonly RecordChange[]): void {
    if (changes.length === 0 || !this.#onCommitted) return
    try {
      this.#onCommitted(changes)
    } catch (err) {
      // the write is committed: a failing listener must not turn it into an error response
      this.#logger.error({ err }, 'record change listener failed')
    }
  }

  /** `listener` writes, inside each write transaction, what must commit with it (see `committing`). */
  useCommittingListener(listener: CommittingListener, inline?: InlineCommitting): void {
    this.#onCommitting = listener
    this.#inline = inline
  }

  /**
   * Called inside a transaction with its writes, last thing before its commit: by the service for
   * its own transactions, and by the owner of a transaction given as `executor` (batch).
   */
  async committing(executor: Executor, changes: readonly RecordChange[]): Promise<void> {
    if (changes.length > 0 && this.#onCommitting) await this.#onCommitting(executor, changes)
  }

  /**
   * Runs `write` in a transaction (the caller's, or its own that ends with `committing`); `write`
   * returns its changes, the record's own last.
   */
  #inTransaction<T extends readonly RecordChange[]>(
    opts: RecordOptions,
    write: (trx: Executor) => Promise<T>,
  ): Promise<T> {
    return this.#database.transaction(async (trx) => {
      const changes = await write(trx)
      if (!opts.executor) await this.committing(trx, changes)
      return changes
    }, opts.executor)
  }

  /**
   * A transaction for writes outside this service's own (the auth flows): `fn` passes `changes` as
   * the `changes` option of the service calls it makes with `executor: trx`, and pushes the changes
   * of its direct writes; they commit with what must commit with them (`committing`) and are
   * announced after the commit.
   */
  async transaction<T>(fn: (trx: Executor, changes: RecordChange[]) => Promise<T>): Promise<T> {
    const changes: RecordChange[] = []
    const result = await this.#database.transaction(async (trx) => {
      const out = await fn(trx, changes)
      await this.committing(trx, changes)
      return out
    })
    this.announce(changes)
    return result
  }

  /** A write's changes: announced now when the service committed them, else left to the owner. */
  #changed(changes: readonly RecordChange[], opts: RecordOptions): void {
    if (!opts.executor) this.announce(changes)
    else opts.changes?.push(...changes)
  }

  /**
   * Record files are kept in `store` (§10); without one, uploads are refused. A function gives the
   * store in force when an operation starts (the S3 or local store the settings choose): each write
   * uses the one store it started with, for its files and their removal.
   */
  useFileStore(store: FileStore | (() => FileStore)): void {
    this.#files = typeof store === 'function' ? store : () => store
  }

  /** The file store in force, for the file routes (one operation keeps the one it took). */
  get fileStore(): FileStore | undefined {
    return this.#files?.()
  }

  /**
   * Runs a write with its file bookkeeping: files it stored are removed when it fails; files it
   * made obsolete are removed once it committed. Inside a caller's transaction this service cannot
   * know whether that commits: with `opts.files` the caller settles them, else obsolete files are
   * left for the orphan sweep. The write's changes are passed on (`#changed`) as soon as it
   * succeeded, before any file removal.
   */
  async #withFiles<T extends readonly RecordChange[]>(
    opts: RecordOptions,
    run: (files: FileChanges, store: FileStore | undefined) => Promise<T>,
  ): Promise<T> {
    // The transaction's owner settles them (settleFiles), in the one store its writes use.
    if (opts.executor && opts.files) {
      opts.files.store ??= this.fileStore
      const result = await run(opts.files, opts.files.store)
      this.#changed(result, opts)
      return result
    }
    const files = newFileChanges()
    const store = this.fileStore
    let result: T
    try {
      result = await run(files, store)
    } catch (err) {
      await this.#removeFiles(store, files.written, [])
      throw err
    }
    // announced before the files it made obsolete go (an S3 store's calls must not delay events)
    this.#changed(result, opts)
    if (!opts.executor) await this.#removeObsolete(store, files)
    return result
  }

  /**
   * For the owner of a transaction whose writes collected `files` (RecordOptions.files): once it
   * committed, the files its writes made obsolete are removed; when it failed, those they stored.
   */
  async settleFiles(files: FileChanges, committed: boolean): Promise<void> {
    if (committed) await this.#removeObsolete(files.store, files)
    else await this.#removeFiles(files.store, files.written, [])
  }

  /** Files a committed write made obsolete, their thumbs with them (new files have none). */
  #removeObsolete(store: FileStore | undefined, files: FileChanges): Promise<void> {
    return this.#removeFiles(store, files.obsolete, [
      ...files.obsolete.map(thumbsPrefix),
      ...files.obsoletePrefixes,
    ])
  }

  async #removeFiles(
    store: FileStore | undefined,
    keys: readonly string[],
    prefixes: readonly string[],
  ): Promise<void> {
    if (!store) return
    for (const key of keys)
      await store.delete(key).catch((err: unknown) => this.#logger.error({ err, key }, 'file removal failed'))
    for (const prefix of prefixes)
      await store
        .deletePrefix(prefix)
        .catch((err: unknown) => this.#logger.error({ err, prefix }, 'file removal failed'))
  }

  #deps(request: RequestContext, fileChanges?: FileChanges, files?: FileStore) {
    return {
      files,
      fileChanges,
      database: this.#database,
      collections: this.#collections,
      passwords: this.#passwords,
      env: this.#env(request),
      writes: this.#writes,
    }
  }

  /**
   * The stored record a view record's file belongs to (§10.1: a view's files are its source
   * record's): the record of the view field's source collection whose source field holds
   * `filename`; undefined when there is none.
   */
  async viewFileOwner(
    view: Collection,
    fieldName: string,
    filename: string,
  ): Promise<{ collection: Collection; id: string } | undefined> {
    const source = await this.#collections.viewFieldSource(view, fieldName)
    if (!source || source.field.type !== 'file') return undefined
    const { collection, field } = source
    const column = sql.ref(`${collection.name}.${field.name}`)
    const row = await this.#database.db
      .selectFrom(collection.name)
      .select('id')
      .where(
        Number(field.maxSelect) > 1
          ? this.#database.dialect.jsonArrayContains(column, filename)
          : sql<SqlBool>`${column} = ${filename}`,
      )
      .limit(1)
      .executeTakeFirst()
    return row ? { collection, id: String((row as { id: unknown }).id) } : undefined
  }

  /** The collection `{c}` of a records route, or PocketBase's 404. */
  collection(idOrName: string): Collection {
    const c = this.#collections.find(idOrName)
    if (!c) throw notFound('Missing collection context.')
    return c
  }

  #env(request: RequestContext): RuleEnv {
    return { findCollection: (x) => this.#collections.find(x), dialect: this.#database.dialect, request }
  }

  /** 403 for a locked rule unless superuser; the condition to AND in, or undefined when none applies. */
  #gate(c: Collection, key: RuleKey, request: RequestContext) {
    if (isSuperuserRequest(request)) return undefined
    let cond
    try {
      cond = ruleCondition(c[key], c, this.#env(request))
    } catch (err) {
      if (!(err instanceof FilterError)) throw err
      // Rules are compiled when a collection is saved, but one saved before that check (or by an
      // older version) may no longer compile: it is then a rule nobody satisfies, never a 500.
      this.#logger.error({ collection: c.name, rule: key, err: err.message }, 'access rule does not compile')
      return sql<SqlBool>`FALSE`
    }
    if (cond === 'superusers') throw new GalleyError('SUPERUSER_ONLY')
    return cond === 'anyone' ? undefined : cond
  }

  /** The columns `rowToJSON` reads: the fields, and whether the requester manages the row. */
  #columns(c: Collection, env?: RuleEnv) {
    const columns = c.fields.map((f) => `${c.name}.${f.name}`)
    const managed = env && managedExpression(c, env)
    return managed ? [...columns, managed.as(MANAGED)] : columns
  }

  /** A stored row as this requester may see it (hidden fields, email visibility). */
  serialize(c: Collection, row: RecordRow, request: RequestContext): RecordJSON {
    return rowToJSON(c, row, this.#env(request))
  }

  /** The relations `?expand=` asks for, checked before anything runs (limits: 400); undefined: none. */
  #plan(c: Collection, request: RequestContext, opts: RecordOptions): ExpandNode[] | undefined {
    if (!opts.expand) return undefined
    const env = {
      findCollection: (x: string) => this.#collections.find(x),
      superuser: isSuperuserRequest(request),
    }
    const plan = planExpand(opts.expand, c, env)
    return plan.length > 0 ? plan : undefined
  }

  #expand(
    records: RecordJSON[],
    plan: ExpandNode[],
    request: RequestContext,
    opts: RecordOptions,
    overflow: ExpandEnv['overflow'],
  ): Promise<void> {
    return expandRecords(
      {
        executor: opts.executor ?? this.#database.db,
        rules: this.#env({ ...request, context: 'expand' }),
        superuser: isSuperuserRequest(request),
        overflow,
        logger: this.#logger,
      },
      records,
      plan,
    )
  }

  /**
   * `json` (a record of `c` already serialized for this requester) with `?expand=` applied, as list
   * and view do; expansion problems leave relations out rather than fail. For responses built
   * elsewhere (auth responses).
   */
  async expandRecord(c: Collection, json: RecordJSON, request: RequestContext, expand: string) {
    const plan = this.#plan(c, request, { expand })
    if (plan) await this.#expand([json], plan, request, {}, 'omit')
    return json
  }

  /** A saved row as the requester sees it, expanded: managers are asked of the database. */
  async #saved(
    c: Collection,
    row: RecordRow,
    request: RequestContext,
    opts: RecordOptions,
    plan?: ExpandNode[],
  ) {
    const env = this.#env(request)
    const managed = managedExpression(c, env)
    let visible = row
    if (managed) {
      const r = await (opts.executor ?? this.#database.db)
        .selectFrom(c.name)
        .select(managed.as(MANAGED))
        .where(`${c.name}.id`, '=', row.id as string)
        .executeTakeFirst()
      visible = { ...row, ...r }
    }
    const json = rowToJSON(c, visible, env)
    // the write is committed (or belongs to the caller's transaction): expanding never fails it
    if (plan) await this.#expand([json], plan, request, opts, 'omit')
    return json
  }

  async list(
    c: Collection,
    params: ListParams,
    request: RequestContext,
    opts: RecordOptions = {},
  ): Promise<ListResult<RecordJSON>> {
    const su = isSuperuserRequest(request)
    const rule = this.#gate(c, 'listRule', request)
    if (!su) {
      for (const text of [params.filter, params.sort]) {
        if (text.includes('@collection.'))
          throw new GalleyError('FORBIDDEN', 'Only superusers can filter by @collection.')
        if (text.includes('@request.'))
          throw new GalleyError('FORBIDDEN', 'Only superusers can filter by @request.')
      }
    }
    const plan = this.#plan(c, request, opts)
    const env = this.#env(request)
    const target = { collection: c, privileged: su }
    let base = (opts.executor ?? this.#database.db).selectFrom(c.name)
    if (rule) base = base.where(rule)
    let rows
    try {
      const filter = compileRecordFilter(params.filter, target, env)
      if (filter) base = base.where(filter)
      rows = base.select(this.#columns(c, env))
      for (const s of compileRecordSort(params.sort, target, env))
        rows = rows.orderBy(s.expression, s.modifiers)
    } catch (err) {
      if (err instanceof FilterError)
        throw badRequest(`Invalid filter or sort: ${err.message}`, undefined, err)
      throw err
    }
    const result = await paginate(base, rows, params, (row) => rowToJSON(c, row as RecordRow, env))
    if (plan) await this.#expand(result.items, plan, request, opts, 'refuse')
    return result
  }

  /**
   * The stored row if it exists and passes `rule` for this request; undefined otherwise. `visible`:
   * with what `serialize` needs to show it to this requester (MANAGED).
   */
  async find(
    c: Collection,
    id: string,
    key: RuleKey | undefined,
    request: RequestContext,
    ex?: Executor,
    visible = false,
  ) {
    const cond = key ? this.#gate(c, key, request) : undefined
    // No stored id holds a NUL (writes refuse it) and PostgreSQL refuses it as a parameter.
    if (id.includes('\0')) return undefined
    const env = visible ? this.#env(request) : undefined
    const executor = ex ?? this.#database.db
    // The common case (no rule condition, nothing managed) is one fixed statement per collection,
    // unless plugins are installed (batch's abort, a test's counter): they see queries being built.
    if (!cond && !(env && managedExpression(c, env)) && executor.getExecutor().plugins.length === 0) {
      const { rows } = await executor.executeQuery<RecordRow>({ ...this.#byIdQuery(c), parameters: [id] })
      return rows[0]
    }
    let q = executor.selectFrom(c.name).select(this.#columns(c, env)).where(`${c.name}.id`, '=', id)
    if (cond) q = q.where(cond)
    return (await q.executeTakeFirst()) as RecordRow | undefined
  }

  /**
   * `select <fields> from <c> where id = ?`, compiled once per collection object (a schema change
   * replaces the object, so a stale statement is never used): building and compiling a Kysely query
   * cost more than running this one.
   */
  #byIdQuery(c: Collection): CompiledQuery {
    let q = this.#byIdQueries.get(c)
    if (!q) {
      q = this.#database.db
        .selectFrom(c.name)
        .select(this.#columns(c))
        .where(`${c.name}.id`, '=', '')
        .compile()
      this.#byIdQueries.set(c, q)
    }
    return q
  }

  async view(
    c: Collection,
    id: string,
    request: RequestContext,
    opts: RecordOptions = {},
  ): Promise<RecordJSON> {
    const plan = this.#plan(c, request, opts)
    const row = await this.find(c, id, 'viewRule', request, opts.executor, true)
    if (!row) throw notFound()
    const json = this.serialize(c, row, request)
    if (plan) await this.#expand([json], plan, request, opts, 'refuse')
    return json
  }

  /**
   * Realtime (§9): which of `readers` may see `image` (a logged row, in its JSON form) and the record
   * as each would get it over REST (rules, hidden fields, email visibility, `expand`), decided in
   * memory where the rules allow and otherwise in one query for all readers (see `readImage`).
   * Undefined for a reader that may not see it. Expansion problems leave relations out.
   */
  async readImage(
    c: Collection,
    image: Readonly<Record<string, unknown>>,
    readers: readonly (ImageReader & { readonly expand?: string | undefined })[],
  ): Promise<(RecordJSON | undefined)[]> {
    const out = await readImage(
      { executor: this.#database.db, dialect: this.#database.dialect, env: (r) => this.#env(r) },
      c,
      image,
      readers,
    )
    for (const [i, json] of out.entries()) {
      const reader = readers[i]!
      if (!json || !reader.expand) continue
      try {
        await this.expandRecord(c, json, reader.request, reader.expand)
      } catch (err) {
        // one reader's expansion failing leaves its relations out, never the others' records
        this.#logger.debug({ err, collection: c.name }, 'realtime: expand failed for a subscriber')
      }
    }
    return out
  }

  /** Throws the 400 that `?expand=` would get on a list of `c` for this request (subscriptions). */
  checkExpand(c: Collection, request: RequestContext, expand: string): void {
    this.#plan(c, request, { expand })
  }

  async create(
    c: Collection,
    body: unknown,
    request: RequestContext,
    opts: RecordOptions = {},
  ): Promise<RecordJSON> {
    if (c.type === 'view') throw badRequest('Unsupported collection type.')
    this.#gate(c, 'createRule', request)
    if (!isJsonObject(body)) throw badRequest('Failed to create record.')
    const plan = this.#plan(c, request, opts)
    const created = (row: RecordRow): [RecordChange] => [{ collection: c, action: 'create', row }]
    // One statement needs no BEGIN/COMMIT around it (on PostgreSQL, two round trips less), unless
    // something must commit with it that cannot ride along in that statement (InlineCommitting).
    const inline = this.#inline
    const oneStatement =
      !opts.executor &&
      (!this.#onCommitting || inline !== undefined) &&
      createIsOneStatement(c, isSuperuserRequest(request))
    const change = await this.#withFiles(opts, async (files, store) => {
      const deps = this.#deps(request, files, store)
      if (!oneStatement)
        return this.#inTransaction(opts, async (trx) =>
          created(await saveRecord(trx, deps, c, undefined, body as Json)),
        )
      const wrapInsert = inline && ((q: CompiledQuery) => inline.wrapInsert(c, q))
      const saved = await saveRecord(this.#database.db, { ...deps, wrapInsert }, c, undefined, body as Json)
      const { [COMMITTED_COLUMN]: committed, ...row } = saved
      const change = created(row)
      inline?.written(change[0], committed)
      return change
    })
    return this.#saved(c, change[0].row, request, opts, plan)
  }

  async update(
    c: Collection,
    id: string,
    body: unknown,
    request: RequestContext,
    opts: RecordOptions = {},
  ): Promise<RecordJSON> {
    if (c.type === 'view') throw badRequest('Unsupported collection type.')
    this.#gate(c, 'updateRule', request)
    if (!isJsonObject(body)) throw badRequest('Failed to update record.')
    const plan = this.#plan(c, request, opts)
    if (id.includes('\0')) throw notFound()
    const change = await this.#withFiles(opts, (files, store) =>
      this.#inTransaction(opts, async (trx) => {
        // Take the row's write lock before reading it: otherwise, on PostgreSQL, concurrent updates
        // read the same stored value and modifiers (`views+`) lose each other's increments.
        await trx
          .updateTable(c.name)
          .set({ id: sql.ref('id') })
          .where('id', '=', id)
          .execute()
        const stored = await this.find(c, id, undefined, request, trx)
        if (!stored) throw notFound()
        const row = await saveRecord(trx, this.#deps(request, files, store), c, stored, body as Json)
        return [{ collection: c, action: 'update', row }] as [RecordChange]
      }),
    )
    return this.#saved(c, change[0].row, request, opts, plan)
  }

  /**
   * `PUT …/records` (batch upsert, §12): an update when `body.id` names a stored record (rules
   * aside, as PocketBase looks it up), else a create; rules see the method of the action taken.
   */
  async upsert(c: Collection, body: unknown, request: RequestContext, opts: RecordOptions = {}) {
    const raw = isJsonObject(body) ? body.id : undefined
    // PocketBase's cast.ToString of the id, for the values an id can take
    const id =
      typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : ''
    const found = id !== '' && (await this.find(c, id, undefined, request, opts.executor))
    return found
      ? this.update(c, id, body, { ...request, method: 'PATCH' }, opts)
      : this.create(c, body, { ...request, method: 'POST' }, opts)
  }

  async delete(c: Collection, id: string, request: RequestContext, opts: RecordOptions = {}): Promise<void> {
    if (c.type === 'view') throw badRequest('Unsupported collection type.')
    await this.#withFiles(opts, (files) =>
      this.#inTransaction(opts, async (trx) => {
        const found = await this.find(c, id, 'deleteRule', request, trx)
        if (!found) throw notFound()
        const changes: CascadeChange[] = []
        await deleteRecord(trx, this.#database, this.#collections, c, found, 0, new Set(), files, changes)
        return [...changes, { collection: c, action: 'delete', row: found }] as RecordChange[]
      }),
    )
  }
}
