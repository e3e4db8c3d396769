import { sql } from 'kysely'
import { paginate, type Database, type Executor, type ListParams, type ListResult } from '../db/index.js'
import { GalleyError, badRequest, isJsonObject, notFound, type Json } from '../lib/index.js'
import {
  compileRecordFilter,
  compileRecordSort,
  ruleCondition,
  type RequestContext,
  type RuleEnv,
} from '../rules/index.js'
import type { Collection, CollectionService, RuleKey } from '../schema/index.js'
import { FilterError } from '../filter/index.js'
import { recordToJSON, type RecordJSON, type RecordRow } from './serialize.js'
import { deleteRecord } from './record-delete.js'
import { isSuperuserRequest } from './request.js'
import { saveRecord, type PasswordHasher } from './record-write.js'

/** Per-call options of the records service. */
export interface RecordOptions {
  /** The request's `?expand=` (§5.2): relation paths to expand on the returned records. */
  readonly expand?: string | undefined
  /** Run inside this transaction (batch, §12) instead of the service's own. */
  readonly executor?: Executor | undefined
}

/**
 * The records service (§3): list, view, create, update and delete, every one through the rules of
 * `rules/`. Transports call these with plain input and get plain JSON back.
 */
export class RecordService {
  readonly #database: Database
  readonly #collections: CollectionService
  readonly #passwords: PasswordHasher

  constructor(database: Database, collections: CollectionService, passwords: PasswordHasher) {
    this.#database = database
    this.#collections = collections
    this.#passwords = passwords
  }

  #deps(request: RequestContext) {
    return {
      database: this.#database,
      collections: this.#collections,
      passwords: this.#passwords,
      env: this.#env(request),
    }
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
    const cond = ruleCondition(c[key], c, this.#env(request))
    if (cond === 'superusers') throw new GalleyError('SUPERUSER_ONLY')
    return cond === 'anyone' ? undefined : cond
  }

  #columns(c: Collection): string[] {
    return c.fields.map((f) => `${c.name}.${f.name}`)
  }

  serialize(c: Collection, row: RecordRow, request: RequestContext): RecordJSON {
    const su = isSuperuserRequest(request)
    const self = request.auth?.collection.id === c.id && request.auth.record.id === row.id
    return recordToJSON(this.#database.dialect, c, row, { showHidden: su, showEmail: su || self })
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
    const env = this.#env(request)
    const target = { collection: c, privileged: su }
    let base = (opts.executor ?? this.#database.db).selectFrom(c.name)
    if (rule) base = base.where(rule)
    let rows
    try {
      const filter = compileRecordFilter(params.filter, target, env)
      if (filter) base = base.where(filter)
      rows = base.select(this.#columns(c))
      for (const s of compileRecordSort(params.sort, target, env))
        rows = rows.orderBy(s.expression, s.modifiers)
    } catch (err) {
      if (err instanceof FilterError)
        throw badRequest(`Invalid filter or sort: ${err.message}`, undefined, err)
      throw err
    }
    return paginate(base, rows, params, (row) => this.serialize(c, row as RecordRow, request))
  }

  /** The stored row if it exists and passes `rule` for this request; undefined otherwise. */
  async find(c: Collection, id: string, key: RuleKey | undefined, request: RequestContext, ex?: Executor) {
    const cond = key ? this.#gate(c, key, request) : undefined
    let q = (ex ?? this.#database.db)
      .selectFrom(c.name)
      .select(this.#columns(c))
      .where(`${c.name}.id`, '=', id)
    if (cond) q = q.where(cond)
    return (await q.executeTakeFirst()) as RecordRow | undefined
  }

  async view(
    c: Collection,
    id: string,
    request: RequestContext,
    opts: RecordOptions = {},
  ): Promise<RecordJSON> {
    const row = await this.find(c, id, 'viewRule', request, opts.executor)
    if (!row) throw notFound()
    return this.serialize(c, row, request)
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
    const row = await this.#database.transaction(
      (trx) => saveRecord(trx, this.#deps(request), c, undefined, body as Json),
      opts.executor,
    )
    return this.serialize(c, row, request)
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
    const row = await this.#database.transaction(async (trx) => {
      // Take the row's write lock before reading it: otherwise, on PostgreSQL, concurrent updates
      // read the same stored value and modifiers (`views+`) lose each other's increments.
      await trx
        .updateTable(c.name)
        .set({ id: sql.ref('id') })
        .where('id', '=', id)
        .execute()
      const stored = await this.find(c, id, undefined, request, trx)
      if (!stored) throw notFound()
      return saveRecord(trx, this.#deps(request), c, stored, body as Json)
    }, opts.executor)
    return this.serialize(c, row, request)
  }

  async delete(c: Collection, id: string, request: RequestContext, opts: RecordOptions = {}): Promise<void> {
    if (c.type === 'view') throw badRequest('Unsupported collection type.')
    await this.#database.transaction(async (trx) => {
      const row = await this.find(c, id, 'deleteRule', request, trx)
      if (!row) throw notFound()
      await deleteRecord(trx, this.#database, this.#collections, c, row)
    }, opts.executor)
  }
}
