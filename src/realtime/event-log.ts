import { sql, type CompiledQuery } from 'kysely'
import type { Database, Executor, Migration } from '../db/index.js'
import type { Logger } from '../lib/index.js'
import { COMMITTED_COLUMN } from '../records/index.js'

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

/** How long a reader waits for a gap in the ids to settle (a transaction between its append and commit). */
export const SETTLE_TIMEOUT_MS = 30_000

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
  #insert: CompiledQuery | undefined
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

  /** Appends `events` in order in a transaction of their own; returns them with their ids. */
  async append(events: readonly EventInput[], now = Date.now()): Promise<LoggedEvent[]> {
    if (events.length === 0) return []
    return this.#database.db.transaction().execute((trx) => this.appendIn(trx, events, now))
  }

  /**
   * Appends `events` inside `trx` (a record write's own transaction, so the events commit with the
   * write or not at all). A write that changes a record holds its row lock to its commit, so the
   * next write of that record draws a larger id: each record's events are in its commit order.
   */
  async appendIn(trx: Executor, events: readonly EventInput[], now = Date.now()): Promise<LoggedEvent[]> {
    if (events.length === 0) return []
    const pg = this.#database.dialect.name === 'postgres'
    // one statement compiled once: building a Kysely query costs more than running this one. On
    // PostgreSQL it also takes the transaction's id before it draws the event id (a reader that sees
    // a later id first then finds this transaction among those still running: `readSettled`).
    this.#insert ??= pg
      ? // (a filter on the xid keeps the planner from dropping the call: nothing else reads it)
        sql`INSERT INTO ${sql.table(EVENT_LOG_TABLE)} ("collectionRef", "action", "record", "created")
          SELECT ${''}, ${''}, ${''}, ${0} FROM (SELECT pg_current_xact_id() AS x) AS xact
          WHERE xact.x IS NOT NULL
          RETURNING "id"`.compile(this.#database.db)
      : this.#database.db
          .insertInto(EVENT_LOG_TABLE)
          .values({ collectionRef: '', action: '', record: '', created: 0 })
          .returning('id')
          .compile()
    const out: LoggedEvent[] = []
    for (const e of events) {
      const { rows } = await trx.executeQuery<{ id: number | string }>({
        ...this.#insert,
        parameters: [e.collectionId, e.action, JSON.stringify(e.record), now],
      })
      out.push({ ...e, id: Number(rows[0]!.id) })
    }
    // the write's owner announces it after the commit (RecordService.announce): the realtime
    // service then wakes its dispatcher and tells the other instances (`notify`)
    return out
  }

  /**
   * Tells every instance (EVENT_CHANNEL) that events up to `id` are committed. Sent after the
   * commits and coalesced by the realtime service, not by each write: a NOTIFY in a transaction
   * serializes its commit with every other notifying one, and each is a message for every listener.
   */
  async notify(id: number): Promise<void> {
    await this.#database.publish(EVENT_CHANNEL, String(id))
  }

  /**
   * PostgreSQL: `insert` (a bound `INSERT … RETURNING` of one record of `collectionId`) and the
   * append of its create event as one statement. The record's image is the returned row's
   * `to_jsonb` with `secrets` (a JSON object) merged over it; the statement returns the row plus
   * COMMITTED_COLUMN, the event's id. The record insert takes the transaction's id before the
   * event's id is drawn (the event's SELECT reads its rows), as `appendIn` does explicitly.
   */
  wrapInsert(insert: CompiledQuery, collectionId: string, secrets: string, now = Date.now()): CompiledQuery {
    const n = insert.parameters.length
    const p = (i: number) => `$${n + i}`
    const events = this.#database.dialect.quoteIdentifier(EVENT_LOG_TABLE)
    // The names are quoted with a space, which no field name (`^\w+$`) has: a field named `r`
    // would otherwise be what `to_jsonb(r)` reads. `"written row".*` is the whole row, always.
    return {
      ...insert,
      sql:
        `WITH "written row" AS (${insert.sql}), "logged event" AS (` +
        `INSERT INTO ${events} ("collectionRef", "action", "record", "created") ` +
        `SELECT ${p(1)}, 'create', (to_jsonb("written row".*) || ${p(2)}::jsonb)::text, ${p(3)} ` +
        `FROM "written row" ` +
        `RETURNING "id") ` +
        `SELECT "written row".*, "logged event"."id" AS "${COMMITTED_COLUMN}" FROM "written row", "logged event"`,
      parameters: [...insert.parameters, collectionId, secrets, now],
    }
  }

  /**
   * The events after `afterId` whose place is settled, oldest first, at most `limit`: every id up to
   * the last one returned is there or never will be (its transaction rolled back). On PostgreSQL ids
   * are drawn before the commit, so 6 can be visible while 5's transaction is still committing: the
   * read stops before such a gap, and a gap right after `afterId` is waited out: the transactions
   * that were running when it was seen and have written to the log must end (at most
   * SETTLE_TIMEOUT_MS), then the ids up to the first one seen are read again. SQLite has one writer: its ids are settled as soon as they are visible.
   */
  async readSettled(afterId: number, limit: number, records = true): Promise<LoggedEvent[]> {
    if (this.#database.dialect.name !== 'postgres') return this.read(afterId, limit, undefined, records)
    const db = this.#database.db
    // the rows and the snapshot they were read with, in one statement
    const { rows } = await sql<EventRow & { snap: string }>`
      SELECT s.snap, e.id, e."collectionRef", e.action, ${records ? sql`e.record` : sql`NULL AS record`}
      FROM (SELECT pg_current_snapshot()::text AS snap) s
      LEFT JOIN LATERAL (
        SELECT * FROM ${sql.table(EVENT_LOG_TABLE)} WHERE id > ${afterId} ORDER BY id LIMIT ${limit}
      ) e ON TRUE`.execute(db)
    const events = rows.filter((r) => r.id !== null).map(toEvent)
    if (events.length === 0) return []
    let next = afterId + 1
    const settled: LoggedEvent[] = []
    for (const e of events) {
      if (e.id !== next) break
      settled.push(e)
      next++
    }
    if (settled.length > 0) return settled
    // a gap first: wait for the transactions that were running to end, then it is settled
    const first = events[0]!.id
    const deadline = Date.now() + SETTLE_TIMEOUT_MS
    for (let pause = 1; ; pause = Math.min(pause * 2, 50)) {
      // only transactions that were running then and have written to the log can hold those ids
      // (xids are cluster-wide: other databases' transactions must not hold this one up)
      const r = await sql<{ n: number | string }>`
        SELECT count(*) AS n
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'relation' AND l.granted AND l.mode = 'RowExclusiveLock'
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.relation = to_regclass(${`"${EVENT_LOG_TABLE}"`})
          AND a.pid <> pg_backend_pid() AND a.backend_xid IS NOT NULL
          AND a.backend_xid::text IN (
            SELECT (x::text::bigint & 4294967295)::text
            FROM pg_snapshot_xip(${rows[0]!.snap}::pg_snapshot) AS x
          )`.execute(db)
      if (Number(r.rows[0]?.n ?? 0) === 0) break
      if (Date.now() > deadline) {
        this.#logger.error(
          { after: afterId, first },
          'realtime event log: a transaction did not end in time; its events are skipped',
        )
        break
      }
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
    return this.read(afterId, limit, first, records)
  }

  /**
   * The events after `afterId` (and up to `upTo`), oldest first, at most `limit` (for the dispatcher,
   * resume and other instances). Without `records`, the images are left out (`{}`): a dispatcher
   * with no client only needs to know how far the log goes.
   */
  async read(afterId: number, limit: number, upTo?: number, records = true): Promise<LoggedEvent[]> {
    let q = this.#database.db
      .selectFrom(EVENT_LOG_TABLE)
      .select(records ? ['id', 'collectionRef', 'action', 'record'] : ['id', 'collectionRef', 'action'])
      .where('id', '>', afterId)
    if (upTo !== undefined) q = q.where('id', '<=', upTo)
    const rows = await q.orderBy('id').limit(limit).execute()
    return rows.map((r) => toEvent(r as EventRow))
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

interface EventRow {
  id: number | string
  collectionRef: string
  action: EventAction
  record?: string | null
}

function toEvent(row: EventRow): LoggedEvent {
  return {
    id: Number(row.id),
    collectionId: row.collectionRef,
    action: row.action,
    record: typeof row.record === 'string' ? (JSON.parse(row.record) as Record<string, unknown>) : {},
  }
}
