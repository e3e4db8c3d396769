import type { Database } from '../db/index.js'
import { GalleyError, badRequest, forbidden, notFound, randomString, type Logger } from '../lib/index.js'
import type {
  CommittingListener,
  InlineCommitting,
  RecordChange,
  RecordJSON,
  RecordService,
} from '../records/index.js'
import type { RequestContext } from '../rules/index.js'
import { columnKind, type Collection, type CollectionService, type Field } from '../schema/index.js'
import {
  EVENT_CHANNEL,
  EventLog,
  type EventAction,
  type EventLogOptions,
  type LoggedEvent,
} from './event-log.js'
import { parseSubscription, type Subscription } from './subscriptions.js'

/** Realtime connections one client address may hold at once. */
export const MAX_CONNECTIONS_PER_IP = 100
/** Characters of a client id (PocketBase: 40 random alphanumerics). */
export const CLIENT_ID_LENGTH = 40
/**
 * Committed changes waiting to be logged. Past this (the database far slower than the writes) new
 * changes are dropped with an error in the log rather than filling the memory.
 */
export const MAX_PENDING_CHANGES = 10_000
/** Events read from the log at once, by the dispatcher and by a resuming client. */
export const READ_BATCH = 500
/** Where recently connected clients started, for a resume naming the client (SSE `Last-Event-ID`). */
export const MAX_RESUMABLE_CLIENTS = 10_000
/** The dispatcher reads the log this often even without a notification (one lost between instances). */
export const POLL_INTERVAL_MS = 2_000
/**
 * PostgreSQL, no client connected: the dispatcher reads the log at most this often (it only keeps
 * its place then; a connecting client wakes it at once).
 */
export const IDLE_READ_INTERVAL_MS = 100
/**
 * PostgreSQL: an instance tells the others of its committed events at most this often (one NOTIFY
 * for all the events committed meanwhile, sent after their commits).
 */
export const NOTIFY_COALESCE_MS = 10
/** Resuming clients replaying the log at once; others wait their turn (still replaying). */
export const MAX_CONCURRENT_REPLAYS = 8
/** Custom-topic messages between instances travel in a NOTIFY payload: at most this many bytes. */
export const MAX_PUBLISH_BYTES = 7_000
/** The channel of `publish` between instances. */
const MESSAGE_CHANNEL = 'galley_realtime_message'

export type Auth = RequestContext['auth']

/**
 * What the core sends a client, in order. The transport frames it (SSE, WebSocket) and applies the
 * subscription's `fields` option.
 * - `event`: a logged record event (`id` from the event log) for one of the client's subscriptions,
 *   the record as the client may see it over REST;
 * - `resync`: the client asked to resume after an event the log no longer holds: it missed events
 *   and must reload what it shows; events after `id` follow;
 * - `message`: a custom topic's message (`publish`, the `@oauth2` redirect).
 */
export type RealtimeMessage =
  | {
      readonly type: 'event'
      readonly id: number
      readonly subscription: Subscription
      readonly action: EventAction
      readonly record: RecordJSON
    }
  | { readonly type: 'resync'; readonly id: number }
  | { readonly type: 'message'; readonly topic: string; readonly data: unknown }

/** A client's connection, as the core sees it. */
export interface RealtimeTransport {
  /** Sends one message (never throws: a transport that cannot send closes itself). */
  send(message: RealtimeMessage): void
  /** Ends the connection (auth revoked or expired, shutdown); the client may reconnect. */
  end(reason: string): void
}

/** Options of a new connection. */
export interface ConnectOptions {
  /** Resume after this event id: the events after it are replayed once subscriptions are set. */
  readonly since?: number | undefined
}

/** A connected client: its address, auth (set by its subscription requests) and subscriptions. */
export interface RealtimeClient {
  readonly id: string
  readonly ip: string
  readonly ipKey: string
  auth: Auth
  subscriptions: Subscription[]
  readonly transport: RealtimeTransport
}

/** A client and what the core keeps about it. */
interface Client extends RealtimeClient {
  /** Replaying the log from `since`: live events wait until the replay caught up. */
  replaying: boolean
  replayStarted: boolean
  readonly since: number | undefined
  /** Events up to this id are not this client's (it resumed after it, or connected after it). */
  floor: number
  expiry: ReturnType<typeof setTimeout> | undefined
}

export interface RealtimeOptions {
  readonly database: Database
  readonly collections: CollectionService
  readonly logger: Logger
  readonly log?: EventLogOptions
  readonly maxConnectionsPerIp?: number
  readonly pollIntervalMs?: number
}

/** A field the log never holds (images have it blank): a password hash, an auth record's tokenKey. */
const isSecret = (c: Collection, f: Field) =>
  f.type === 'password' || (c.type === 'auth' && f.name === 'tokenKey')

const authKey = (auth: Auth) => (auth ? `${auth.collection.id}/${String(auth.record.id)}` : '')

/**
 * The subscription core (§9). Committed record changes are appended to the event log (every
 * instance's, on PostgreSQL); each instance's dispatcher reads the log in id order, from where it
 * is, when told of new events (NOTIFY) or every POLL_INTERVAL_MS, and delivers each event to the
 * subscribed clients that may see the record, as the records service shows it to them. A client
 * resuming from an event id replays the log from there before it receives live events.
 */
export class RealtimeService {
  readonly log: EventLog
  readonly #database: Database
  readonly #collections: CollectionService
  readonly #logger: Logger
  readonly #maxPerIp: number
  readonly #pollMs: number
  readonly #clients = new Map<string, Client>()
  readonly #perIp = new Map<string, number>()
  /** clientId -> the event id it started after (SSE's `Last-Event-ID` is the client id until an event). */
  readonly #resumable = new Map<string, number>()
  /** Changes logged inside their transaction, with their event ids. */
  readonly #logged = new WeakMap<RecordChange, number>()
  /** The newest event id whose write this instance saw commit (records' `announce`). */
  #announced = 0
  /**
   * SQLite: this process is the only one writing the log but for the CLI, and its ids are settled
   * once committed, so with no client the dispatcher follows `#announced` and reads nothing (the
   * poll still reads, for the CLI's writes). PostgreSQL ids can commit out of order across
   * transactions: the dispatcher always reads settled ids there.
   */
  readonly #followsAnnounced: boolean
  /** The next drain reads the log even with no client (the poll's turn). */
  #pollDue = false
  /** PostgreSQL with no client: the pending wake (at most one read per IDLE_READ_INTERVAL_MS). */
  #idleWake: ReturnType<typeof setTimeout> | undefined
  #lastIdleRead = 0
  /** PostgreSQL: the pending NOTIFY of `#announced` to the other instances. */
  #notifyTimer: ReturnType<typeof setTimeout> | undefined
  #notifying: Promise<void> = Promise.resolve()
  /** A wake for the announced writes is queued (`#newest`). */
  #wakeSoon = false
  #records: RecordService | undefined
  #appending: Promise<void> = Promise.resolve()
  #pending = 0
  /** The last event whose recipients were chosen, and the last one fully dispatched. */
  #selected = 0
  #cursor = 0
  #wanted = false
  #draining: Promise<void> | undefined
  #stopped = false
  #unsubscribe: (() => void)[] = []
  #replays = 0
  readonly #replayQueue: (() => void)[] = []
  #poll: ReturnType<typeof setInterval> | undefined

  constructor(options: RealtimeOptions) {
    this.#database = options.database
    this.#collections = options.collections
    this.#logger = options.logger
    this.#maxPerIp = options.maxConnectionsPerIp ?? MAX_CONNECTIONS_PER_IP
    this.#pollMs = options.pollIntervalMs ?? POLL_INTERVAL_MS
    this.log = new EventLog(options.database, options.logger, options.log)
    this.#followsAnnounced = options.database.dialect.name === 'sqlite'
    this.inline = this.#followsAnnounced
      ? undefined
      : {
          wrapInsert: (c, insert) => this.log.wrapInsert(insert, c.id, this.#secrets(c)),
          written: (change, id) => this.#logged.set(change, Number(id)),
        }
  }

  /** The records service whose read path serializes deliveries (it is built after this service). */
  async start(records: RecordService): Promise<void> {
    this.#records = records
    await this.log.start()
    // events logged before this instance started are not its to deliver: its clients connect later
    this.#cursor = this.#selected = await this.log.lastId()
    this.#unsubscribe.push(
      this.#database.subscribe(
        EVENT_CHANNEL,
        () => this.#wake(),
        () => this.#wake(),
      ),
      this.#database.subscribe(MESSAGE_CHANNEL, (payload) => this.#received(payload)),
    )
    // a lost notification, a failed read, or events another process logged (SQLite: the CLI)
    this.#poll = setInterval(() => {
      this.#pollDue = true
      this.#wake()
    }, this.#pollMs)
    this.#poll.unref()
  }

  /** Waits for the changes already committed to be logged and delivered, then stops. */
  async stop(): Promise<void> {
    await this.#appending
    if (this.#notifyTimer) {
      clearTimeout(this.#notifyTimer)
      this.#notifyTimer = undefined
      this.#notifying = this.#notify()
    }
    await this.#notifying
    this.#wake()
    while (this.#draining) await this.#draining
    this.#stopped = true
    if (this.#poll) clearInterval(this.#poll)
    if (this.#idleWake) clearTimeout(this.#idleWake)
    for (const off of this.#unsubscribe) off()
    for (const client of this.#clients.values()) if (client.expiry) clearTimeout(client.expiry)
    await this.log.stop()
  }

  /**
   * The records service's listener inside write transactions: the events are logged there, so they
   * commit with the write or not at all (an acknowledged write's event survives a crash right
   * after), and the row locks the write holds keep each record's events in commit order across
   * instances.
   */
  readonly committing: CommittingListener = async (trx, changes) => {
    const logged = await this.log.appendIn(
      trx,
      changes.map((ch) => this.#event(ch)),
    )
    changes.forEach((ch, i) => this.#logged.set(ch, logged[i]!.id))
  }

  /**
   * PostgreSQL: a create that is one statement logs its event in that statement (a CTE), so it
   * stays one round trip with no BEGIN and COMMIT. The image is the returned row's `to_jsonb`,
   * secrets blanked; deliveries type it like every other image (`#image` is idempotent there).
   */
  readonly inline: InlineCommitting | undefined

  /**
   * The records service's commit listener: wakes the dispatcher for the changes logged in their
   * transaction (on SQLite this is how it learns of them), and logs the others, in commit order.
   */
  readonly committed = (all: readonly RecordChange[]): void => {
    const changes: RecordChange[] = []
    let newest = 0
    for (const ch of all) {
      const id = this.#logged.get(ch)
      if (id === undefined) changes.push(ch)
      else newest = Math.max(newest, id)
    }
    if (newest > this.#announced) this.#newest(newest)
    if (changes.length === 0) return
    if (this.#pending + changes.length > MAX_PENDING_CHANGES) {
      this.#logger.error({ dropped: changes.length }, 'realtime: too many pending events, dropping')
      return
    }
    this.#pending += changes.length
    const events = changes.map((ch) => this.#event(ch))
    this.#appending = this.#appending.then(async () => {
      try {
        const logged = await this.log.append(events)
        this.#newest(logged[logged.length - 1]!.id)
      } catch (err) {
        this.#logger.error({ err, lost: events.length }, 'realtime: events could not be logged')
      } finally {
        this.#pending -= changes.length
      }
      this.#wake()
    })
  }

  /**
   * Events up to `id` committed through this instance: its dispatcher reads them now; on
   * PostgreSQL the other instances are told within NOTIFY_COALESCE_MS (a crash before that leaves
   * them to their poll).
   */
  #newest(id: number): void {
    this.#announced = Math.max(this.#announced, id)
    // once per turn of the event loop, after the writes that finished in it: a wake per write made
    // the dispatcher read and deliver one event at a time (a third fewer writes/s with 1,000
    // subscribers on SQLite)
    if (!this.#wakeSoon) {
      this.#wakeSoon = true
      setImmediate(() => {
        this.#wakeSoon = false
        this.#wake()
      })
    }
    if (this.#followsAnnounced || this.#notifyTimer) return
    this.#notifyTimer = setTimeout(() => {
      this.#notifyTimer = undefined
      this.#notifying = this.#notify()
    }, NOTIFY_COALESCE_MS)
  }

  async #notify(): Promise<void> {
    try {
      await this.log.notify(this.#announced)
    } catch (err) {
      this.#logger.warn({ err }, 'realtime: could not notify the other instances (they poll)')
    }
  }

  #event(ch: RecordChange) {
    return { collectionId: ch.collection.id, action: ch.action, record: this.#image(ch.collection, ch.row) }
  }

  /**
   * The stored row in its JSON form: every field, hidden ones too (the log is internal), but never
   * a password hash or an auth record's tokenKey (no message outputs them; the log does not keep
   * them): those are empty.
   */
  #image(c: Collection, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const f of c.fields)
      out[f.name] = isSecret(c, f) ? '' : this.#database.dialect.decode(columnKind(f), row[f.name])
    return out
  }

  /** The image's blanked fields of `c` (`#image`), as one JSON object to merge over a row. */
  #secrets(c: Collection): string {
    return JSON.stringify(Object.fromEntries(c.fields.filter((f) => isSecret(c, f)).map((f) => [f.name, ''])))
  }

  /** Registers a new connection; 429 past the connections allowed to its address. */
  connect(
    ip: string,
    ipKey: string,
    transport: RealtimeTransport,
    options: ConnectOptions = {},
  ): RealtimeClient {
    const n = this.#perIp.get(ipKey) ?? 0
    if (n >= this.#maxPerIp) throw new GalleyError('RATE_LIMITED')
    this.#perIp.set(ipKey, n + 1)
    const since = options.since
    const client: Client = {
      id: randomString(CLIENT_ID_LENGTH),
      ip,
      ipKey,
      auth: undefined,
      subscriptions: [],
      transport,
      replaying: since !== undefined,
      replayStarted: false,
      since,
      floor: since ?? this.#selected,
      expiry: undefined,
    }
    this.#clients.set(client.id, client)
    if (this.#idleWake) {
      // the dispatcher waited out an idle pause: from now on it has someone to deliver to
      clearTimeout(this.#idleWake)
      this.#idleWake = undefined
      this.#wake()
    }
    if (this.#resumable.size >= MAX_RESUMABLE_CLIENTS) {
      const oldest = this.#resumable.keys().next().value
      if (oldest !== undefined) this.#resumable.delete(oldest)
    }
    this.#resumable.set(client.id, since ?? this.#selected)
    return client
  }

  /**
   * The event id to resume after for an SSE `Last-Event-ID` / WebSocket cursor: an event id, or a
   * client id (a client that saw no event since it connected resumes from where it started).
   * Undefined when it names nothing known.
   */
  resumeCursor(lastEventId: string): number | undefined {
    if (/^\d{1,15}$/.test(lastEventId)) return Number(lastEventId)
    return this.#resumable.get(lastEventId)
  }

  disconnect(client: RealtimeClient): void {
    const c = this.#clients.get(client.id)
    if (c !== client) return
    this.#clients.delete(client.id)
    if (c.expiry) clearTimeout(c.expiry)
    const n = (this.#perIp.get(client.ipKey) ?? 1) - 1
    if (n > 0) this.#perIp.set(client.ipKey, n)
    else this.#perIp.delete(client.ipKey)
  }

  get clientCount(): number {
    return this.#clients.size
  }

  /**
   * `POST /api/realtime` (§9.2): replaces the client's subscriptions. The request must come from
   * the address that connected, and may only set the auth of a guest client or keep the same one
   * (PocketBase v0.38.2): another connection cannot take over or re-auth someone else's client.
   * `authExpires` (ms since the epoch): when the token expires, the connection ends. A resuming
   * client's replay starts with its first subscriptions.
   */
  setSubscriptions(
    clientId: string,
    ip: string,
    auth: Auth,
    topics: readonly string[],
    authExpires?: number,
  ): void {
    const client = this.#clients.get(clientId)
    if (!client) throw notFound('Missing or invalid client id.')
    if (client.ip !== ip) throw badRequest('Invalid realtime client.')
    const previous = authKey(client.auth)
    if (previous !== '' && previous !== authKey(auth))
      throw forbidden("The current and the previous request authorization don't match.")
    const subscriptions = new Map<string, Subscription>()
    topics.forEach((t, i) => subscriptions.set(t, parseSubscription(t, i)))
    // an invalid `expand` is the request's 400, as for a list, not a failure at every delivery
    const request = { auth, method: 'GET', headers: {}, query: {}, body: {}, context: 'realtime' } as const
    for (const sub of subscriptions.values()) {
      const c = sub.collection === undefined ? undefined : this.#collections.find(sub.collection)
      if (c && sub.query.expand && this.#records) this.#records.checkExpand(c, request, sub.query.expand)
    }
    client.auth = auth
    client.subscriptions = [...subscriptions.values()]
    if (client.expiry) clearTimeout(client.expiry)
    client.expiry = undefined
    if (auth && authExpires !== undefined) {
      // setTimeout's limit is about 24.8 days; tokens last far less
      const ms = Math.min(Math.max(authExpires - Date.now(), 0), 2 ** 31 - 1)
      client.expiry = setTimeout(() => this.#end(client, 'auth expired'), ms)
      client.expiry.unref()
    }
    if (client.replaying && !client.replayStarted && client.subscriptions.length > 0) {
      client.replayStarted = true
      void this.#replay(client)
    }
  }

  #end(client: Client, reason: string): void {
    this.disconnect(client)
    client.transport.end(reason)
  }

  /**
   * Sends `data` on a custom topic (`@oauth2`, or one of the app's own, for hooks) to every client
   * subscribed to exactly that topic (options aside), or only to client `clientId`, on every
   * instance. Record topics are not for this: their messages come from the log, checked against
   * rules. The message must fit MAX_PUBLISH_BYTES as JSON (400 otherwise). `only.ip`: delivered
   * only to a client that connected from that address; `only.once`: the client's subscription to
   * the topic ends with it (the `@oauth2` redirect, as PocketBase v0.38.2).
   */
  async publish(
    topic: string,
    data: unknown,
    clientId?: string,
    only: { ip?: string; once?: boolean } = {},
  ): Promise<void> {
    const payload = JSON.stringify({ topic, data, clientId, ip: only.ip, once: only.once })
    if (Buffer.byteLength(payload) > MAX_PUBLISH_BYTES)
      throw badRequest(`The message must be at most ${MAX_PUBLISH_BYTES} bytes.`)
    await this.#database.publish(MESSAGE_CHANNEL, payload)
  }

  #received(payload: string): void {
    let m: { topic?: unknown; data?: unknown; clientId?: unknown; ip?: unknown; once?: unknown }
    try {
      m = JSON.parse(payload) as typeof m
    } catch {
      return
    }
    if (typeof m.topic !== 'string') return
    const targets =
      typeof m.clientId === 'string' ? [this.#clients.get(m.clientId)] : [...this.#clients.values()]
    for (const client of targets) {
      if (!client || (typeof m.ip === 'string' && client.ip !== m.ip)) continue
      const sub = client.subscriptions.find((s) => s.name === m.topic)
      if (!sub) continue
      client.transport.send({ type: 'message', topic: sub.topic, data: m.data })
      if (m.once === true) client.subscriptions = client.subscriptions.filter((s) => s !== sub)
    }
  }

  /** Asks the dispatcher to read the log (new events, a notification, the poll). */
  #wake(): void {
    this.#wanted = true
    if (this.#draining || this.#stopped || this.#idleWake) return
    if (!this.#followsAnnounced && this.#clients.size === 0) {
      const wait = this.#lastIdleRead + IDLE_READ_INTERVAL_MS - Date.now()
      if (wait > 0) {
        this.#idleWake = setTimeout(() => {
          this.#idleWake = undefined
          this.#wake()
        }, wait)
        this.#idleWake.unref()
        return
      }
    }
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined
      if (this.#wanted && !this.#stopped) this.#wake()
    })
  }

  async #drain(): Promise<void> {
    while (this.#wanted && !this.#stopped) {
      this.#wanted = false
      const poll = this.#pollDue
      this.#pollDue = false
      try {
        for (;;) {
          // no client: nobody to deliver to, only the position to keep (no images read)
          const idle = this.#clients.size === 0
          if (idle && !poll && this.#followsAnnounced) {
            if (this.#announced > this.#cursor) this.#selected = this.#cursor = this.#announced
            break
          }
          if (idle) this.#lastIdleRead = Date.now()
          const events = await this.log.readSettled(this.#cursor, READ_BATCH, !idle)
          // a client connected during the read: it is owed these events, read again with images
          if (idle && this.#clients.size > 0) continue
          if (events.length > 0 && events[0]!.id > this.#cursor + 1) await this.#checkLost(events[0]!.id)
          if (idle && this.#clients.size > 0) continue
          for (const e of events) {
            if (idle) this.#selected = this.#cursor = e.id
            else await this.#dispatch(e)
          }
          // with no client, a read that was not full caught up as of then: enough to keep the place
          if (events.length === 0 || (idle && events.length < READ_BATCH)) break
        }
      } catch (err) {
        // the database away: the next notification or poll tries again from the same cursor
        this.#logger.error({ err }, 'realtime: reading the event log failed')
        return
      }
      // PostgreSQL with no client: the next read waits for its turn (#wake)
      if (!this.#followsAnnounced && this.#clients.size === 0) return
    }
  }

  /**
   * The dispatcher found a gap before `next`: ids a rolled-back append never used, or events pruned
   * before this instance read them (it fell more than the retention behind). Clients of the latter
   * missed events: they are told to resync.
   */
  async #checkLost(next: number): Promise<void> {
    if ((await this.log.prunedThrough()) <= this.#cursor) return
    this.#logger.error({ from: this.#cursor, to: next }, 'realtime: events pruned before delivery')
    for (const client of this.#clients.values())
      if (!client.replaying) client.transport.send({ type: 'resync', id: next - 1 })
  }

  /** Delivers one event to every live client, in log order. */
  async #dispatch(e: LoggedEvent): Promise<void> {
    const c = this.#collections.find(e.collectionId)
    if (c?.type === 'auth') await this.#followAuth(c, e)
    const recipients: Client[] = []
    for (const client of this.#clients.values()) {
      if (client.replaying || client.floor >= e.id) continue
      if (client.auth && !this.#authCurrent(client)) this.#end(client, 'auth revoked')
      else recipients.push(client)
    }
    this.#selected = e.id
    try {
      if (c && c.type !== 'view') await this.#deliver(c, e, recipients)
    } catch (err) {
      // (the database away): its subscribers missed it and are told so, never silently
      this.#logger.error({ err, event: e.id }, 'realtime: delivery failed')
      for (const client of recipients)
        if (client.subscriptions.some((s) => s.collection === c?.name || s.collection === c?.id))
          client.transport.send({ type: 'resync', id: e.id })
    }
    this.#cursor = e.id
  }

  /**
   * Whether tokens of the auth's collection are still those it signed in with: a new
   * `authToken.secret` (or the collection's deletion) revokes every token of the collection.
   */
  #authCurrent(client: Client): boolean {
    const auth = client.auth!
    const now = this.#collections.find(auth.collection.id)
    if (now === auth.collection) return true
    const secret = (c: unknown) => (c as { authToken?: { secret?: unknown } } | undefined)?.authToken?.secret
    if (now === undefined || secret(now) !== secret(auth.collection)) return false
    // the same tokens, a changed collection (renamed, new fields): rules must see it as it is now
    client.auth = { collection: now, record: auth.record }
    return true
  }

  /**
   * §9.2: a client's auth follows its record. An update refreshes it (a rule reading
   * `@request.auth.role` sees the new role); a delete, or a new tokenKey (a new password or email
   * revokes every session), ends the connection.
   */
  async #followAuth(c: Collection, e: LoggedEvent): Promise<void> {
    const id = String(e.record.id)
    const affected = [...this.#clients.values()].filter(
      (cl) => cl.auth?.collection.id === c.id && String(cl.auth.record.id) === id,
    )
    if (affected.length === 0) return
    const row =
      e.action === 'delete'
        ? undefined
        : await this.#records?.find(c, id, undefined, {
            method: 'GET',
            headers: {},
            query: {},
            body: {},
            context: 'realtime',
          })
    for (const client of affected) {
      const auth = client.auth!
      if (!row || row.tokenKey !== auth.record.tokenKey) this.#end(client, 'auth revoked')
      else client.auth = { collection: c, record: row }
    }
  }

  /**
   * Sends event `e` to each subscription of `clients` it matches whose client may see the record.
   * Subscriptions sharing auth and options are one reader: the records service decides them all
   * at once (in memory, or one query for those whose rules need the database).
   */
  async #deliver(c: Collection, e: LoggedEvent, clients: readonly Client[]): Promise<void> {
    const id = String(e.record.id)
    const groups = new Map<string, { auth: Auth; sub: Subscription; members: [Client, Subscription][] }>()
    for (const client of clients) {
      for (const sub of client.subscriptions) {
        if (sub.collection !== c.name && sub.collection !== c.id) continue
        if (sub.recordId !== undefined && sub.recordId !== id) continue
        const key = `${authKey(client.auth)}\n${sub.groupKey}`
        const g = groups.get(key)
        if (g) g.members.push([client, sub])
        else groups.set(key, { auth: client.auth, sub, members: [[client, sub]] })
      }
    }
    const records = this.#records
    if (groups.size === 0 || !records) return
    const list = [...groups.values()]
    // PostgreSQL's inline creates log the row as to_jsonb gave it: typed here like every image
    const image = this.#followsAnnounced ? e.record : this.#image(c, e.record)
    const seen = await records.readImage(
      c,
      image,
      list.map((g) => ({
        request: {
          auth: g.auth,
          method: 'GET',
          headers: g.sub.headers,
          query: g.sub.query,
          body: {},
          context: 'realtime',
        },
        view: g.sub.recordId !== undefined,
        filter: g.sub.query.filter ?? '',
        expand: g.sub.query.expand,
      })),
    )
    list.forEach((g, i) => {
      const record = seen[i]
      if (!record) return
      for (const [client, sub] of g.members) {
        // a client that disconnected (or went replaying) meanwhile is skipped
        if (this.#clients.get(client.id) === client)
          client.transport.send({ type: 'event', id: e.id, subscription: sub, action: e.action, record })
      }
    })
  }

  /**
   * A resuming client: every logged event after its `since` that it may see, in order, re-checked
   * now, then live events. Its replay catches up with the dispatcher (events up to the last one the
   * dispatcher chose recipients for) and only then becomes live, in one synchronous step, so no
   * event is missed or sent twice. A `since` the log no longer covers (pruned) or does not know (a
   * newer id than any) gets `resync` first.
   */
  async #replay(client: Client): Promise<void> {
    if (this.#replays < MAX_CONCURRENT_REPLAYS) this.#replays++
    else await new Promise<void>((resolve) => this.#replayQueue.push(resolve))
    try {
      await this.#replayNow(client)
    } finally {
      // the slot goes to the next waiting replay, or back
      const next = this.#replayQueue.shift()
      if (next) next()
      else this.#replays--
    }
  }

  async #replayNow(client: Client): Promise<void> {
    let cursor = client.since ?? this.#selected
    try {
      const pruned = await this.log.prunedThrough()
      if (cursor < pruned || cursor > (await this.log.lastId())) {
        client.transport.send({ type: 'resync', id: this.#selected })
        cursor = client.floor = this.#selected
      }
      for (let rounds = 0; this.#clients.get(client.id) === client; rounds++) {
        const target = this.#selected
        if (cursor >= target) {
          client.replaying = false
          return
        }
        if (rounds > 10_000) throw new Error('resume does not catch up')
        const events = await this.log.read(cursor, READ_BATCH, target)
        // pruned under the replay: what it missed is gone; the client reloads
        if (
          (events.length === 0 || events[0]!.id > cursor + 1) &&
          (await this.log.prunedThrough()) > cursor
        ) {
          client.transport.send({ type: 'resync', id: target })
          cursor = client.floor = target
          continue
        }
        if (events.length === 0) cursor = target
        for (const e of events) {
          const c = this.#collections.find(e.collectionId)
          if (c && c.type !== 'view') await this.#deliver(c, e, [client])
          cursor = e.id
        }
      }
    } catch (err) {
      this.#logger.error({ err, clientId: client.id }, 'realtime: resume failed')
      this.#end(client, 'resume failed')
    }
  }
}
