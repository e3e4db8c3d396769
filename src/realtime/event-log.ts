import { sql } from 'kysely'
import type { Database, Executor, Migration } from '../db/index.js'
import type { Logger } from '../lib/index.js'

/**
 * The event log: an internal table of the main database, so events are written in their record
 * write's own transaction (they commit with it or not at all; a crash right after a commit keeps them).
 */
export const EVENT_LOG_TABLE = '_realtimeEvents'
/** One row: the newest id pruned so far (a resume from before it has lost events). */
export const EVENT_LOG_STATE_TABLE = '_realtimeEventsPruned'
/** The channel every instance listens on: its payload is the newest appended id. */
export const EVENT_CHANNEL = 'galley_realtime'
/** Events older than this are pruned (the issue's default: 10 minutes). */
export const EVENT_RETENTION_MS = 10 * 60 * 1000
/** At most this many events are kept, whatever their age. */
export const EVENT_RETENTION_COUNT = 100_000
/** How often the log is pruned. */
export const EVENT_PRUNE_INTERVAL_MS = 30_000
/** One prune run deletes at most this many events (a bounded statement), then waits for the next. */
export const EVENT_PRUNE_BATCH = 20_000

/** The event log's tables, in the main database (their shape is the realtime layer's own). */
export const realtimeEventsMigration: Migration = {
  name: '0004_realtime_events',
  async up(trx, db) {
    await trx.schema
      .createTable(EVENT_LOG_TABLE)
      .addColumn('id', sql.raw(db.dialect.sequenceKeyDefinition()))
      .addColumn('collectionRef', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('record', 'text', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute()
    await trx.schema
      .createIndex('idx__realtimeEvents_created')
      .on(EVENT_LOG_TABLE)
      .column('created')
      .execute()
    await trx.schema
      .createTable(EVENT_LOG_STATE_TABLE)
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('through', 'bigint', (c) => c.notNull())
      .execute()
  },
}

export type EventAction = 'create' | 'update' | 'delete'

/** What a committed write appends: the collection's id and the stored row's JSON image. */
export interface EventInput {
  readonly collectionId: string
  readonly action: EventAction
  readonly record: Readonly<Record<string, unknown>>
}

/** One logged event; `id` grows with every append and orders events in commit order. */
export interface LoggedEvent extends EventInput {
  readonly id: number
}

export interface EventLogOptions {
  readonly retentionMs?: number
  readonly retentionCount?: number
  readonly pruneIntervalMs?: number
}

/**
 * The append-only realtime event log. Ids come from the table's own sequence (SQLite
 * AUTOINCREMENT, PostgreSQL identity), are never reused and become visible in increasing order, so
 * a reader that remembers the last id it saw (a reconnecting client, another instance woken by a
 * NOTIFY of the new id) reads exactly what it missed with `read(lastId)`.
 */
export class EventLog {
  readonly #database: Database
  readonly #logger: Logger
  readonly #retentionMs: number
  readonly #retentionCount: number
  readonly #pruneIntervalMs: number
  #timer: ReturnType<typeof setInterval> | undefined
  #pruning: Promise<void> = Promise.resolve()

  constructor(database: Database, logger: Logger, options: EventLogOptions = {}) {
    this.#database = database
    this.#logger = logger
    this.#retentionMs = options.retentionMs ?? EVENT_RETENTION_MS
    this.#retentionCount = options.retentionCount ?? EVENT_RETENTION_COUNT
    this.#pruneIntervalMs = options.pruneIntervalMs ?? EVENT_PRUNE_INTERVAL_MS
  }

  /** Starts pruning (the tables come from `realtimeEventsMigration`). */
  async start(): Promise<void> {
    this.#timer = setInterval(() => {
      this.#pruning = this.prune().then(
        () => undefined,
        (err: unknown) => this.#logger.warn({ err }, 'realtime event log: prune failed'),
      )
    }, this.#pruneIntervalMs)
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = undefined
    await this.#pruning
  }

  /**
   * Appends `events` in order in a transaction of their own and tells every instance
   * (EVENT_CHANNEL, sent with the commit); returns them with their ids.
   */
  async append(events: readonly EventInput[], now = Date.now()): Promise<LoggedEvent[]> {
    if (events.length === 0) return []
    return this.#database.db.transaction().execute((trx) => this.appendIn(trx, events, now))
  }

  /**
   * Appends `events` inside `trx` (a record write's own transaction, so the events commit with the
   * write or not at all). On PostgreSQL appends hold one lock to their commit, so ids become
   * visible in increasing order on every instance: a reader never sees id 6 and later 5 (SQLite
   * has one writer).
   */
  async appendIn(trx: Executor, events: readonly EventInput[], now = Date.now()): Promise<LoggedEvent[]> {
    if (events.length === 0) return []
    const { dialect } = this.#database
    // SQLite: one writer, whose transactions already commit one at a time
    if (dialect.name === 'postgres') await dialect.lockKey(trx, EVENT_LOG_TABLE)
    const out: LoggedEvent[] = []
    for (const e of events) {
      const row = await trx
        .insertInto(EVENT_LOG_TABLE)
        .values({
          collectionRef: e.collectionId,
          action: e.action,
          record: JSON.stringify(e.record),
          created: now,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      out.push({ ...e, id: Number((row as { id: number | string }).id) })
    }
    await this.#database.publish(EVENT_CHANNEL, String(out[out.length - 1]!.id), trx)
    return out
  }

  /**
   * The events after `afterId` (and up to `upTo`), oldest first, at most `limit` (for the dispatcher,
   * resume and other instances).
   */
  async read(afterId: number, limit: number, upTo?: number): Promise<LoggedEvent[]> {
    let q = this.#database.db
      .selectFrom(EVENT_LOG_TABLE)
      .select(['id', 'collectionRef', 'action', 'record'])
      .where('id', '>', afterId)
    if (upTo !== undefined) q = q.where('id', '<=', upTo)
    const rows = await q.orderBy('id').limit(limit).execute()
    return rows.map((r) => {
      const row = r as { id: number | string; collectionRef: string; action: EventAction; record: string }
      return {
        id: Number(row.id),
        collectionId: row.collectionRef,
        action: row.action,
        record: JSON.parse(row.record) as Record<string, unknown>,
      }
    })
  }

  /**
   * Deletes events older than the retention time or beyond the retention count, oldest first and
   * at most EVENT_PRUNE_BATCH per run.
   */
  async prune(now = Date.now()): Promise<number> {
    const db = this.#database.db
    const bounds = await db
      .selectFrom(EVENT_LOG_TABLE)
      .select((eb) => [eb.fn.min('id').as('lo'), eb.fn.max('id').as('hi')])
      .executeTakeFirst()
    if (!bounds || bounds.lo === null || bounds.hi === null) return 0
    const lo = Number(bounds.lo)
    const hi = Number(bounds.hi)
    const old = await db
      .selectFrom(EVENT_LOG_TABLE)
      .select((eb) => eb.fn.max('id').as('id'))
      .where('created', '<', now - this.#retentionMs)
      .executeTakeFirst()
    const cutoff = Math.min(
      Math.max(old?.id === null || old?.id === undefined ? 0 : Number(old.id), hi - this.#retentionCount),
      lo - 1 + EVENT_PRUNE_BATCH,
    )
    if (cutoff < lo) return 0
    return db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom(EVENT_LOG_TABLE).where('id', '<=', cutoff).executeTakeFirst()
      // two instances pruning at once: the newer bound wins
      await trx
        .insertInto(EVENT_LOG_STATE_TABLE)
        .values({ id: 1, through: cutoff })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet({
            through: sql<number>`CASE WHEN ${sql.ref(`${EVENT_LOG_STATE_TABLE}.through`)} < ${cutoff} THEN ${cutoff} ELSE ${sql.ref(`${EVENT_LOG_STATE_TABLE}.through`)} END`,
          }),
        )
        .execute()
      return Number(result.numDeletedRows)
    })
  }

  /** The newest pruned id, 0 when nothing was pruned: a resume from before it has lost events. */
  async prunedThrough(): Promise<number> {
    const row = await this.#database.db
      .selectFrom(EVENT_LOG_STATE_TABLE)
      .select('through')
      .where('id', '=', 1)
      .executeTakeFirst()
    return row ? Number(row.through) : 0
  }

  /** The newest id, 0 when the log is empty. */
  async lastId(): Promise<number> {
    const r = await sql<{
      id: number | string | null
    }>`SELECT max(id) AS id FROM ${sql.table(EVENT_LOG_TABLE)}`.execute(this.#database.db)
    return Number(r.rows[0]?.id ?? 0)
  }
}
