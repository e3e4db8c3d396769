import { sql } from 'kysely'
import type { Database, Executor, ListParams, ListResult } from '../db/index.js'
import {
  badRequest,
  fieldError,
  MAX_IMPORT_COLLECTIONS,
  notFound,
  nowDateTime,
  randomString,
  serialRefresh,
  ValidationErrors,
  isFieldError,
  isJsonObject as isObject,
  type Json,
  type Logger,
} from '../lib/index.js'
import {
  COLLECTION_TYPES,
  findField,
  RULE_KEYS,
  type Collection,
  type CollectionType,
  type Field,
} from './collection.js'
import { applyCollectionInput } from './collection-input.js'
import { listCollections } from './collection-list.js'
import {
  deleteCollectionRow,
  insertCollection,
  readCollections,
  updateCollectionRow,
} from './collection-store.js'
import { scaffoldCollection } from './defaults.js'
import { collectionToJSON } from './serialize.js'
import { dropTable, syncTable } from './table-sync.js'
import { ruleSyntaxProblem, validateCollection, type RuleProblem } from './validate-collection.js'
import { viewColumnSource } from './view-fields.js'
import { normalizeViewQuery } from './view-query.js'
import { buildViews, dropViews, dryRunView, type DryRunResult, type ViewJob } from './view-sync.js'

/** Notification channel telling every instance to reload its collection cache. */
export const COLLECTIONS_CHANNEL = 'galley_collections'

/** Views over views a view field's source is followed through. */
export const MAX_VIEW_SOURCE_DEPTH = 6

/** Where a view's field reads from: a field of a collection (not a view). */
export interface ViewFieldSource {
  readonly collection: Collection
  readonly field: Field
}

/**
 * Compiles one rule of `collection`, other collections looked up in `all` (the schema as it will be
 * after the save); returns the compile error's message, or undefined. The compiler lives in rules/,
 * above schema, so the composition root passes it in.
 */
export type RuleValidator = (
  rule: string,
  collection: Collection,
  all: readonly Collection[],
) => RuleProblem | undefined

/** The rule slots a draft's rule can be checked in (`authRule`, `manageRule`: auth collections only). */
export const CHECKABLE_RULE_KEYS = [...RULE_KEYS, 'authRule', 'manageRule'] as const
export type CheckableRuleKey = (typeof CHECKABLE_RULE_KEYS)[number]

/** What saving a draft would say of one of its rules: nothing, or the error under the rule's key. */
export type RuleCheck =
  { readonly ok: true } | { readonly ok: false; readonly message: string; readonly position?: number }

export interface CollectionServiceOptions {
  /** Without it only the rules' syntax is checked at save. */
  readonly validateRule?: RuleValidator
}

interface Plan {
  /** `at`: the collection's index in an import, where its errors are reported. */
  readonly upserts: readonly { prev?: Collection | undefined; next: Collection; at?: number }[]
  readonly deletes: readonly Collection[]
}

interface ViewPlan {
  /** Stored views dropped before any table changes. */
  readonly drop: readonly Collection[]
  /** Views (re)built after the tables, with their import index. */
  readonly jobs: readonly (ViewJob & { readonly at?: number | undefined })[]
  /** The schema as it will be, which view queries are read against. */
  readonly universe: readonly Collection[]
}

/**
 * Collections: an in-memory cache of `_collections`, kept current across instances through the
 * database's notifications, and every schema change (validation, `_collections` row, table DDL) in
 * one transaction under the schema lock.
 */
export class CollectionService {
  readonly #database: Database
  readonly #logger: Logger
  readonly #validateRule: RuleValidator | undefined
  #byId = new Map<string, Collection>()
  #byName = new Map<string, Collection>()
  #unsubscribe: (() => void) | undefined
  readonly #refresh = serialRefresh(async () => this.#setCache(await readCollections(this.#database.db)))

  constructor(database: Database, logger: Logger, options: CollectionServiceOptions = {}) {
    this.#database = database
    this.#logger = logger
    this.#validateRule = options.validateRule
  }

  /** Loads the cache and starts following changes made by other instances. */
  async start(): Promise<void> {
    await this.reload()
    const reload = () => {
      this.reload().catch((err: Error) =>
        this.#logger.warn({ err: err.message }, 'collections cache reload failed'),
      )
    }
    this.#unsubscribe = this.#database.subscribe(COLLECTIONS_CHANNEL, reload, reload)
  }

  stop(): void {
    this.#unsubscribe?.()
  }

  readonly #viewSources = new WeakMap<Collection, Map<string, ViewFieldSource | undefined>>()

  /**
   * The non-view collection and field a view's field reads (PocketBase's `FindRecordByViewFile`):
   * through views over views, at most MAX_VIEW_SOURCE_DEPTH deep. The view's query is described
   * by the database once per field and schema version (a schema change replaces the objects).
   */
  async viewFieldSource(view: Collection, fieldName: string): Promise<ViewFieldSource | undefined> {
    let cache = this.#viewSources.get(view)
    if (!cache) this.#viewSources.set(view, (cache = new Map()))
    if (cache.has(fieldName)) return cache.get(fieldName)
    const own = findField(view, fieldName)
    let current: ViewFieldSource | undefined = own ? { collection: view, field: own } : undefined
    for (let depth = 0; current && current.collection.type === 'view'; depth++) {
      if (depth >= MAX_VIEW_SOURCE_DEPTH) {
        current = undefined
        break
      }
      const { collection, field } = current
      const query = normalizeViewQuery(collection.viewQuery ?? '')
      const columns = await this.#database.transaction((trx) => this.#database.describeSelect(trx, query))
      current = viewColumnSource(
        query,
        columns,
        field.name,
        this.all().filter((c) => c.id !== collection.id),
      )
      if (current && current.field.type !== field.type) current = undefined
    }
    cache.set(fieldName, current)
    return current
  }

  readonly #deletedListeners: ((deleted: readonly Collection[]) => Promise<void>)[] = []

  /**
   * Tells `listener` of the collections a schema change deleted, once it committed (records removes
   * their stored files), and waits for it; its failure is logged, the change stays done. Changes made inside a caller's transaction are not reported: this service
   * cannot know whether it commits.
   */
  onDeleted(listener: (deleted: readonly Collection[]) => Promise<void>): void {
    this.#deletedListeners.push(listener)
  }

  async reload(executor?: Executor): Promise<void> {
    if (executor) return this.#setCache(await readCollections(executor))
    return this.#refresh()
  }

  #setCache(list: Collection[]): void {
    this.#byId = new Map(list.map((c) => [c.id, c]))
    this.#byName = new Map(list.map((c) => [c.name.toLowerCase(), c]))
  }

  /** A cached collection by id or (case-insensitive) name. */
  find(idOrName: string): Collection | undefined {
    return this.#byId.get(idOrName) ?? this.#byName.get(idOrName.toLowerCase())
  }

  get(idOrName: string): Collection {
    const c = this.find(idOrName)
    if (!c) throw notFound()
    return c
  }

  all(): Collection[] {
    return [...this.#byId.values()]
  }

  list(params: ListParams): Promise<ListResult<Json>> {
    return listCollections(this.#database, params)
  }

  toJSON(c: Collection): Json {
    return collectionToJSON(c)
  }

  scaffolds(): Record<CollectionType, Json> {
    const out = {} as Record<CollectionType, Json>
    for (const type of COLLECTION_TYPES) {
      const c = collectionToJSON(scaffoldCollection(type, ''))
      out[type] = { ...c, id: '', name: '', created: '', updated: '' }
    }
    return out
  }

  /** `internal.system` marks Galley's own collections; a request can never set it. */
  async create(
    input: unknown,
    executor?: Executor,
    internal: { system?: boolean } = {},
  ): Promise<Collection> {
    if (!isObject(input)) throw badRequest('Failed to create collection.')
    const [created] = await this.#mutate(executor, 'Failed to create collection.', (stored, errors) => {
      const next = this.#candidate(input, undefined, stored, errors)
      if (next && internal.system) next.system = true
      return { upserts: next ? [{ next }] : [], deletes: [] }
    })
    return created!
  }

  async update(idOrName: string, input: unknown, executor?: Executor): Promise<Collection> {
    if (!isObject(input)) throw badRequest('Failed to update collection.')
    const [updated] = await this.#mutate(executor, 'Failed to update collection.', (stored, errors) => {
      const prev = findIn(stored, idOrName)
      if (!prev) throw notFound()
      const next = this.#candidate(input, prev, stored, errors)
      return { upserts: next ? [{ prev, next }] : [], deletes: [] }
    })
    return updated!
  }

  async delete(idOrName: string, executor?: Executor): Promise<void> {
    await this.#mutate(executor, 'Failed to delete collection.', (stored) => {
      const c = findIn(stored, idOrName)
      if (!c) throw notFound()
      if (c.system) throw badRequest('System collections cannot be deleted.')
      const refs = referencing(stored, c)
      if (refs.length > 0)
        throw badRequest(
          `Failed to delete collection due to existing relation references: ${refs.map((r) => r.name).join(', ')}.`,
        )
      return { upserts: [], deletes: [c] }
    })
  }

  /** Deletes every record of a collection (record-level cascades and files join with the records service). */
  async truncate(idOrName: string): Promise<void> {
    const c = this.get(idOrName)
    if (c.type === 'view')
      throw badRequest("View collections cannot be truncated since they don't store their own records.")
    await this.#database.transaction(async (trx) => {
      await sql`DELETE FROM ${sql.id(c.name)}`.execute(trx)
    })
  }

  /**
   * Replaces the schema with `inputs` in one transaction: matched by id (or name) they update,
   * others are created; with `deleteMissing`, non-system collections not listed are deleted.
   */
  async import(inputs: unknown, deleteMissing: boolean): Promise<void> {
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > MAX_IMPORT_COLLECTIONS)
      throw badRequest('Failed to import collections.', {
        collections: fieldError('validation_required', 'Cannot be blank.'),
      })
    await this.#mutate(undefined, 'Failed to import collections.', (stored, errors) => {
      // `at`: the index in `inputs`, where errors are reported.
      const upserts: { prev?: Collection; next: Collection; at: number }[] = []
      // Candidates are validated against each other: a new collection may relate to another new one.
      const planned: Collection[] = []
      inputs.forEach((raw, i) => {
        const local = new ValidationErrors()
        if (!isObject(raw)) {
          errors.add(['collections', i], fieldError('validation_invalid_value', 'Invalid value.'))
          return
        }
        const prev =
          (typeof raw.id === 'string' && raw.id !== '' ? stored.find((c) => c.id === raw.id) : undefined) ??
          (typeof raw.name === 'string' ? findIn(stored, raw.name) : undefined)
        const next = this.#decode(raw, prev, local)
        if (next) planned.push(next)
        if (!local.empty) errors.merge(['collections', i], local.data)
        else if (next) upserts.push(prev ? { prev, next, at: i } : { next, at: i })
      })
      const keep = new Set(planned.map((c) => c.id))
      const deletes = deleteMissing ? stored.filter((c) => !keep.has(c.id) && !c.system) : []
      const universe = [...stored.filter((c) => !keep.has(c.id) && !deletes.includes(c)), ...planned]
      for (const d of deletes) {
        const refs = referencing(universe, d)
        if (refs.length > 0)
          errors.add(
            ['collections'],
            fieldError(
              'validation_collection_referenced',
              `Cannot delete ${d.name}: referenced by ${refs.map((r) => r.name).join(', ')}.`,
            ),
          )
      }
      upserts.forEach((u) => {
        // A view is validated once its fields are inferred (#settleViews).
        if (u.next.type === 'view') return
        const local = validateCollection(u.next, {
          old: u.prev,
          all: universe.filter((c) => c.id !== u.next.id).concat(u.prev ? [u.prev] : []),
        })
        this.#checkRules(u.next, universe, local)
        if (!local.empty) errors.merge(['collections', u.at], local.data)
      })
      return { upserts, deletes }
    })
  }

  /** Decodes and validates one create/update input against the stored collections. */
  #candidate(
    input: Json,
    prev: Collection | undefined,
    stored: readonly Collection[],
    errors: ValidationErrors,
  ) {
    const next = this.#decode(input, prev, errors)
    // Like a body PocketBase cannot unmarshal, values of the wrong JSON type stop here: validation
    // would report fields by indexes shifted by the undecodable ones dropped.
    if (!next || !errors.empty) return undefined
    // A view is validated once its fields are inferred from its query (#settleViews).
    if (next.type === 'view') return next
    validateCollection(next, { old: prev, all: stored }, errors)
    this.#checkRules(next, [...stored.filter((c) => c.id !== next.id), next], errors)
    return next
  }

  /**
   * What saving `input` (a draft as `POST /api/collections` takes it, or a stored collection's id
   * with the changes `PATCH` would take) with `rule` in the slot `key` would say of that rule: the
   * same decoding, validation and compilation as a save, against the cached schema, with nothing
   * written. The draft's other problems (a blank name, a field half typed) are left to the save.
   * A view is checked with the fields the draft holds (a save infers them from its query). Input
   * that cannot be decoded at all is a 400 under `collection`, as a save would refuse it.
   */
  checkRule(input: Json, rule: string, key: CheckableRuleKey): RuleCheck {
    const stored = this.all()
    const prev = typeof input.id === 'string' && input.id !== '' ? this.#byId.get(input.id) : undefined
    const errors = new ValidationErrors()
    const next = this.#decode({ ...input, [key]: rule }, prev, errors)
    if (!next || !errors.empty) throw badRequest('Failed to check the rule.', { collection: errors.data })
    if ((key === 'authRule' || key === 'manageRule') && next.type !== 'auth')
      throw badRequest('Failed to check the rule.', {
        kind: fieldError('validation_in_invalid', `Only auth collections have a ${key}.`),
      })
    const universe = [...stored.filter((c) => c.id !== next.id), next]
    validateCollection(next, { old: prev, all: stored }, errors)
    this.#checkRules(next, universe, errors)
    const found = errors.data[key]
    if (found === undefined || !isFieldError(found)) return { ok: true }
    const syntax = ruleSyntaxProblem(rule)
    const position = syntax ? syntax.position : this.#validateRule?.(rule, next, universe)?.position
    return position === undefined
      ? { ok: false, message: found.message }
      : { ok: false, message: found.message, position }
  }

  /**
   * Every rule of `c` must compile against `all` (PocketBase's `checkRule`, §7.4): unknown fields,
   * bad `@collection` references and modifiers are `validation_invalid_rule` when it is saved. The
   * MFA rule only counts while MFA is enabled, as in PocketBase. A rule already refused (syntax,
   * length) keeps that first error.
   */
  #checkRules(c: Collection, all: readonly Collection[], errors: ValidationErrors): void {
    if (!this.#validateRule) return
    for (const [path, rule] of rulesOf(c)) {
      const problem = this.#validateRule(rule, c, all)
      if (problem !== undefined)
        errors.add(path, fieldError('validation_invalid_rule', `Invalid rule. Raw error: ${problem.message}`))
    }
  }

  /**
   * A change must not break the rules of the collections it leaves alone (a field, relation or
   * collection they name removed or renamed): PocketBase lets those fail at request time, Galley
   * refuses the change and names them. Rules that did not compile before are not its doing.
   */
  #checkOtherRules(stored: readonly Collection[], p: Plan, message: string): void {
    const validate = this.#validateRule
    if (!validate) return
    const touched = new Set([...p.upserts.map((u) => u.next.id), ...p.deletes.map((c) => c.id)])
    const after = [...stored.filter((c) => !touched.has(c.id)), ...p.upserts.map((u) => u.next)]
    const broken: string[] = []
    for (const c of stored) {
      if (touched.has(c.id)) continue
      for (const [path, rule] of rulesOf(c)) {
        const problem = validate(rule, c, after)
        if (problem !== undefined && validate(rule, c, stored) === undefined)
          broken.push(`${c.name}.${path.join('.')} (${problem.message})`)
      }
    }
    if (broken.length > 0)
      throw badRequest(`${message} Rules of other collections would break: ${broken.join(', ')}.`)
  }

  #decode(input: Json, prev: Collection | undefined, errors: ValidationErrors): Collection | undefined {
    let base = prev
    if (!base) {
      const type = input.type ?? 'base'
      if (typeof type !== 'string' || !COLLECTION_TYPES.includes(type as CollectionType)) {
        errors.add(['type'], fieldError('validation_in_invalid', 'Must be a valid value.'))
        return undefined
      }
      const name = typeof input.name === 'string' ? input.name : ''
      const id = typeof input.id === 'string' ? input.id : undefined
      base = scaffoldCollection(type as CollectionType, name, id)
    } else if ('type' in input && input.type !== prev!.type) {
      errors.add(
        ['type'],
        fieldError('validation_collection_type_change', 'Collection type cannot be changed.'),
      )
    }
    const next = applyCollectionInput(base, input, errors)
    next.updated = nowDateTime()
    // Changing who may authenticate invalidates every token issued under the old rule.
    if (prev && next.type === 'auth' && next.authRule !== prev.authRule && next.authToken)
      next.authToken = { ...next.authToken, secret: randomString(50) }
    return next
  }

  async #mutate(
    executor: Executor | undefined,
    message: string,
    plan: (stored: Collection[], errors: ValidationErrors) => Plan,
  ): Promise<Collection[]> {
    const db = this.#database
    let result: Collection[] = []
    let deleted: readonly Collection[] = []
    await db.transaction(async (trx) => {
      await db.dialect.lockSchema(trx)
      // Read inside the lock: another instance may have changed the schema since our cache was filled.
      const stored = await readCollections(trx)
      const errors = new ValidationErrors()
      const p = plan(stored, errors)
      errors.throwIfAny(message)
      this.#checkOtherRules(stored, p, message)
      // Views go first and come back last: PostgreSQL refuses to change a table a view reads, and
      // a view's fields come from the tables as they will be.
      const views = planViews(stored, p)
      await dropViews(trx, db.dialect, views.drop)
      const tables = p.upserts.filter((u) => u.next.type !== 'view')
      for (const { prev, next } of tables) {
        if (prev) await updateCollectionRow(trx, db.dialect, next)
        else await insertCollection(trx, db.dialect, next)
      }
      for (const c of p.deletes) {
        await deleteCollectionRow(trx, c.id)
        await this.#ddl(message, c, () => dropTable(trx, db.dialect, c))
      }
      for (const { prev, next } of tables)
        await this.#ddl(message, next, () => syncTable(trx, db.dialect, prev, next))
      await this.#settleViews(trx, message, p, views)
      result = p.upserts.map((u) => u.next)
      deleted = p.deletes
      await db.publish(COLLECTIONS_CHANNEL, 'changed', trx)
      if (!executor?.isTransaction) return
      await this.reload(trx)
    }, executor)
    if (!executor?.isTransaction) {
      await this.reload()
      if (deleted.length > 0)
        for (const listener of this.#deletedListeners)
          await listener(deleted).catch((err: unknown) =>
            this.#logger.error({ err }, 'collection deletion listener failed'),
          )
    }
    return result
  }

  /** One DDL step: the database refusing it (not being unreachable) is a 400 quoting its reason. */
  async #ddl(message: string, c: Collection, step: () => Promise<void>): Promise<void> {
    try {
      await step()
    } catch (err) {
      if (this.#database.dialect.classifyError(err).kind === 'unavailable') throw err
      this.#logger.warn({ err: (err as Error).message, collection: c.name }, 'table sync failed')
      throw badRequest(`${message.replace(/\.$/, '')}. Raw error: ${(err as Error).message}`, undefined, err)
    }
  }

  /**
   * Builds the planned views (§6.6) and writes their `_collections` rows: a requested view is
   * validated with its inferred fields (errors on its own keys); a stored view that can no longer be
   * built fails the whole change, naming it; a rebuilt view whose inferred fields changed (a field of
   * a collection it reads) is saved with them.
   */
  async #settleViews(trx: Executor, message: string, p: Plan, views: ViewPlan): Promise<void> {
    if (views.jobs.length === 0) return
    const db = this.#database
    const { universe } = views
    const failures = await buildViews(db, trx, views.jobs, universe, (job, errors) => {
      const all = universe.filter((c) => c.id !== job.next.id).concat(job.prev ? [job.prev] : [])
      validateCollection(job.next, { old: job.prev, all }, errors)
      this.#checkRules(job.next, universe, errors)
    })
    const errors = new ValidationErrors()
    const broken: string[] = []
    for (const f of failures) {
      const at = views.jobs.find((j) => j.next === f.job.next)?.at
      if (f.job.requested) errors.merge(at === undefined ? [] : ['collections', at], f.errors.data)
      else broken.push(`"${f.job.next.name}" (${f.reason})`)
    }
    errors.throwIfAny(message)
    if (broken.length > 0) {
      if (p.upserts.length === 0)
        throw badRequest(
          `Failed to delete collection due to existing view references: ${failures.map((f) => f.job.next.name).join(', ')}.`,
        )
      const which = broken.length === 1 ? 'the view collection' : 'the view collections'
      throw badRequest(`${message} It would break ${which} ${broken.join(', ')}.`)
    }
    for (const job of views.jobs) {
      if (job.requested) {
        if (job.prev) await updateCollectionRow(trx, db.dialect, job.next)
        else await insertCollection(trx, db.dialect, job.next)
      } else if (JSON.stringify(job.next.fields) !== JSON.stringify(job.prev?.fields)) {
        job.next.updated = nowDateTime()
        await updateCollectionRow(trx, db.dialect, job.next)
      }
    }
  }

  /** `POST /api/collections/meta/dry-run-view`: a view query's fields and sample records; nothing is saved. */
  dryRunView(input: unknown): Promise<DryRunResult> {
    return dryRunView(this.#database, this.all(), isObject(input) ? input.query : undefined)
  }
}

/**
 * Which views to (re)build. Changing or deleting a collection may break any view, and PostgreSQL
 * refuses to alter a table a view reads: then every view is dropped first and rebuilt after the
 * tables, in the same transaction. Creating collections leaves the stored views alone.
 */
function planViews(stored: readonly Collection[], p: Plan): ViewPlan {
  const deleted = new Set(p.deletes.map((c) => c.id))
  const upserted = new Map(p.upserts.map((u) => [u.next.id, u]))
  const rebuildAll = p.deletes.length > 0 || p.upserts.some((u) => u.prev)
  const kept = stored
    .filter((c) => !deleted.has(c.id) && !upserted.has(c.id))
    .map((c) => (rebuildAll && c.type === 'view' ? structuredClone(c) : c))
  const universe = [...kept, ...p.upserts.map((u) => u.next)]
  const jobs = universe
    .filter((c) => c.type === 'view' && (rebuildAll || upserted.has(c.id)))
    .map((next) => {
      const u = upserted.get(next.id)
      if (u) return { next, prev: u.prev, at: u.at, requested: true }
      return { next, prev: stored.find((s) => s.id === next.id), requested: false }
    })
  return { drop: rebuildAll ? stored.filter((c) => c.type === 'view') : [], jobs, universe }
}

/** The non-empty rules of `c` by path: the API rules, and for auth the auth, manage and (enabled) MFA rules. */
function rulesOf(c: Collection): [string[], string][] {
  const rules: [string[], string | null | undefined][] = RULE_KEYS.map((k) => [[k], c[k]])
  if (c.type === 'auth') {
    rules.push([['authRule'], c.authRule], [['manageRule'], c.manageRule])
    if (c.mfa?.enabled) rules.push([['mfa', 'rule'], c.mfa.rule])
  }
  return rules.filter((r): r is [string[], string] => typeof r[1] === 'string' && r[1] !== '')
}

function findIn(list: readonly Collection[], idOrName: string): Collection | undefined {
  return (
    list.find((c) => c.id === idOrName) ?? list.find((c) => c.name.toLowerCase() === idOrName.toLowerCase())
  )
}

/** Other collections with a relation field pointing at `target`. */
function referencing(list: readonly Collection[], target: Collection): Collection[] {
  return list.filter(
    (c) => c.id !== target.id && c.fields.some((f) => f.type === 'relation' && f.collectionId === target.id),
  )
}
