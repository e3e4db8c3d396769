import { sql } from 'kysely'
import type { Database, Executor } from '../db/index.js'
import {
  GalleyError,
  badRequest,
  forbidden,
  isGalleyError,
  notFound,
  randomString,
  type Logger,
} from '../lib/index.js'
import type { RecordChange, RecordJSON, RecordService } from '../records/index.js'
import type { RequestContext } from '../rules/index.js'
import { columnKind, type Collection, type CollectionService } from '../schema/index.js'
import { parseFilter } from '../filter/index.js'
import { EventLog, type EventAction, type EventLogOptions, type LoggedEvent } from './event-log.js'
import { parseSubscription, type Subscription } from './subscriptions.js'

/** Realtime connections one client address may hold at once. */
export const MAX_CONNECTIONS_PER_IP = 100
/** Characters of a client id (PocketBase: 40 random alphanumerics). */
export const CLIENT_ID_LENGTH = 40
/**
 * Committed changes waiting to be logged and delivered. Past this (the database far slower than
 * the writes) new changes are dropped with an error in the log rather than filling the memory.
 */
export const MAX_PENDING_CHANGES = 10_000

/** Ids that can be written inside a filter string literal unchanged. */
const FILTER_SAFE_ID = /^[^"'\\]*$/

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

export interface RealtimeOptions {
  readonly database: Database
  readonly collections: CollectionService
  readonly logger: Logger
  readonly log?: EventLogOptions
  readonly maxConnectionsPerIp?: number
}

const authKey = (auth: Auth) => (auth ? `${auth.collection.id}/${String(auth.record.id)}` : '')

class Rollback extends Error {}

/** Whether `filter` parses as a complete expression by itself. */
function parsesAlone(filter: string): boolean {
  try {
    parseFilter(filter)
    return true
  } catch {
    return false
  }
}

/**
 * The subscription core (§9): committed record changes become logged events, which are delivered
 * to each subscribed client that may see the record, as the records service shows it to that client.
 */
export class RealtimeService {
  readonly log: EventLog
  readonly #database: Database
  readonly #collections: CollectionService
  readonly #logger: Logger
  readonly #maxPerIp: number
  readonly #clients = new Map<string, RealtimeClient>()
  readonly #perIp = new Map<string, number>()
  #records: RecordService | undefined
  #queue: Promise<void> = Promise.resolve()
  #pending = 0

  constructor(options: RealtimeOptions) {
    this.#database = options.database
    this.#collections = options.collections
    this.#logger = options.logger
    this.#maxPerIp = options.maxConnectionsPerIp ?? MAX_CONNECTIONS_PER_IP
    this.log = new EventLog(options.database, options.logger, options.log)
  }

  /** The records service whose read path serializes deliveries (it is built after this service). */
  async start(records: RecordService): Promise<void> {
    this.#records = records
    await this.log.start()
  }

  /** Waits for the changes already committed to be logged and delivered, then stops pruning. */
  async stop(): Promise<void> {
    await this.#queue
    await this.log.stop()
  }

  /** The records service's commit listener: queues the changes, in commit order. */
  readonly committed = (changes: readonly RecordChange[]): void => {
    if (this.#pending + changes.length > MAX_PENDING_CHANGES) {
      this.#logger.error({ dropped: changes.length }, 'realtime: too many pending events, dropping')
      return
    }
    this.#pending += changes.length
    this.#queue = this.#queue.then(async () => {
      try {
        await this.#process(changes)
      } catch (err) {
        this.#logger.error({ err }, 'realtime: delivery failed')
      } finally {
        this.#pending -= changes.length
      }
    })
  }

  /** Registers a new connection; 429 past the connections allowed to its address. */
  connect(
    ip: string,
    ipKey: string,
    transport: RealtimeTransport,
    _options: ConnectOptions = {},
  ): RealtimeClient {
    const n = this.#perIp.get(ipKey) ?? 0
    if (n >= this.#maxPerIp) throw new GalleyError('RATE_LIMITED')
    this.#perIp.set(ipKey, n + 1)
    const client: RealtimeClient = {
      id: randomString(CLIENT_ID_LENGTH),
      ip,
      ipKey,
      auth: undefined,
      subscriptions: [],
      transport,
    }
    this.#clients.set(client.id, client)
    return client
  }

  disconnect(client: RealtimeClient): void {
    if (this.#clients.get(client.id) !== client) return
    this.#clients.delete(client.id)
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
   */
  setSubscriptions(clientId: string, ip: string, auth: Auth, topics: readonly string[]): void {
    const client = this.#clients.get(clientId)
    if (!client) throw notFound('Missing or invalid client id.')
    if (client.ip !== ip) throw badRequest('Invalid realtime client.')
    const previous = authKey(client.auth)
    if (previous !== '' && previous !== authKey(auth))
      throw forbidden("The current and the previous request authorization don't match.")
    const subscriptions = new Map<string, Subscription>()
    topics.forEach((t, i) => subscriptions.set(t, parseSubscription(t, i)))
    client.auth = auth
    client.subscriptions = [...subscriptions.values()]
  }

  /**
   * Sends `data` on a custom topic (`@oauth2`, or one of the app's own, for hooks) to every client
   * subscribed to exactly that topic (options aside), or only to client `clientId`. Record topics are
   * not for this: their messages come from the log, checked against rules. Returns the number of
   * clients it reached on this instance.
   */
  publish(topic: string, data: unknown, clientId?: string): number {
    let reached = 0
    const targets = clientId === undefined ? this.#clients.values() : [this.#clients.get(clientId)]
    for (const client of targets) {
      if (!client) continue
      const sub = client.subscriptions.find((s) => s.name === topic)
      if (!sub) continue
      client.transport.send({ type: 'message', topic: sub.topic, data })
      reached++
    }
    return reached
  }

  async #process(changes: readonly RecordChange[]): Promise<void> {
    this.#followAuth(changes)
    const events = await this.log.append(
      changes.map((ch) => ({
        collectionId: ch.collection.id,
        action: ch.action,
        record: this.#image(ch.collection, ch.row),
      })),
    )
    for (const e of events) await this.deliver(e)
  }

  /**
   * §9.2: a client's auth follows its record. An update refreshes it (a rule reading
   * `@request.auth.role` sees the new role); a delete, or a new tokenKey (a new password or email
   * revokes every session), clears it: the client is a guest from the next event on.
   */
  #followAuth(changes: readonly RecordChange[]): void {
    for (const ch of changes) {
      if (ch.collection.type !== 'auth') continue
      const id = String(ch.row.id)
      for (const client of this.#clients.values()) {
        const auth = client.auth
        if (!auth || auth.collection.id !== ch.collection.id || String(auth.record.id) !== id) continue
        const revoked = ch.action === 'delete' || ch.row.tokenKey !== auth.record.tokenKey
        client.auth = revoked ? undefined : { collection: ch.collection, record: ch.row }
      }
    }
  }

  /** The stored row in its JSON form (every field, hidden ones too: the log is internal). */
  #image(c: Collection, row: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const f of c.fields) out[f.name] = this.#database.dialect.decode(columnKind(f), row[f.name])
    return out
  }

  /**
   * Delivers one logged event to every subscription it matches whose client may see the record.
   * Subscriptions sharing auth and options read the record once, through the records service.
   */
  async deliver(e: LoggedEvent): Promise<void> {
    const c = this.#collections.find(e.collectionId)
    if (!c || c.type === 'view' || this.#clients.size === 0) return
    const id = String(e.record.id)
    const groups = new Map<
      string,
      { auth: Auth; sub: Subscription; members: [RealtimeClient, Subscription][] }
    >()
    for (const client of this.#clients.values()) {
      for (const sub of client.subscriptions) {
        if (sub.collection !== c.name && sub.collection !== c.id) continue
        if (sub.recordId !== undefined && sub.recordId !== id) continue
        const key = `${authKey(client.auth)}\n${sub.groupKey}`
        const g = groups.get(key)
        if (g) g.members.push([client, sub])
        else groups.set(key, { auth: client.auth, sub, members: [[client, sub]] })
      }
    }
    if (groups.size === 0) return
    const seen = new Map<string, RecordJSON>()
    const readAll = async (ex?: Executor) => {
      for (const [key, g] of groups) {
        const record = await this.#read(c, id, g.auth, g.sub, ex)
        if (record) seen.set(key, record)
      }
    }
    if (!(await this.#asStored(c, e.record, readAll))) return
    for (const [key, record] of seen) {
      for (const [client, sub] of groups.get(key)?.members ?? []) {
        // a client that disconnected while the record was read is gone from the map
        if (this.#clients.get(client.id) === client)
          client.transport.send({ type: 'event', id: e.id, subscription: sub, action: e.action, record })
      }
    }
  }

  /**
   * Runs `fn` in a transaction where the record is exactly the event's row image (a deleted row put
   * back, a row changed since replaced by the image), then rolls it back. So every event is checked
   * and serialized as of its own commit, by the same read path as REST: a create is not lost
   * because the record was deleted before delivery, a delete is checked against the row as it was
   * (what PocketBase checks before deleting), and a later replay of the log sees the same thing.
   * False when the image cannot be put in place (its unique values taken since): the event is then
   * delivered to nobody.
   */
  async #asStored(
    c: Collection,
    image: Readonly<Record<string, unknown>>,
    fn: (ex: Executor) => Promise<void>,
  ) {
    const d = this.#database.dialect
    let done = false
    try {
      await this.#database.transaction(async (trx) => {
        const values: Record<string, unknown> = {}
        for (const f of c.fields) if (f.name in image) values[f.name] = d.encode(columnKind(f), image[f.name])
        await trx.deleteFrom(c.name).where('id', '=', String(image.id)).execute()
        await trx.insertInto(c.name).values(values).execute()
        await fn(trx)
        done = true
        throw new Rollback()
      })
    } catch (err) {
      if (!(err instanceof Rollback)) {
        this.#logger.warn(
          { err, collection: c.name },
          'realtime: record image not checkable, event not delivered',
        )
        return false
      }
    }
    return done
  }

  /**
   * The record as the subscriber would get it over REST (view for `collection/ID`, a one-record
   * list for the collection), or undefined when it may not see it. Errors skip only this reader.
   */
  async #read(c: Collection, id: string, auth: Auth, sub: Subscription, ex?: Executor) {
    const records = this.#records
    if (!records) return undefined
    const request: RequestContext = {
      auth,
      method: 'GET',
      headers: sub.headers,
      query: sub.query,
      body: {},
      context: 'realtime',
    }
    const opts = { expand: sub.query.expand, executor: ex }
    const filter = sub.query.filter ?? ''
    const read = async (): Promise<RecordJSON | undefined> => {
      let record: RecordJSON | undefined
      if (sub.recordId !== undefined) {
        record = await records.view(c, id, request, opts)
        // PocketBase checks the filter option too; here it goes through the list path as well
        if (filter === '') return record
      }
      if (!FILTER_SAFE_ID.test(id)) return undefined
      // the option must be a whole expression on its own: `false) || (true` cannot leave its parentheses
      if (filter !== '' && !parsesAlone(filter)) return undefined
      const text = filter === '' ? `id = "${id}"` : `id = "${id}" && (${filter})`
      const page = await records.list(
        c,
        { page: 1, perPage: 1, sort: '', filter: text, skipTotal: true },
        request,
        opts,
      )
      return page.items[0] === undefined ? undefined : (record ?? page.items[0])
    }
    // inside the rollback transaction a failed statement would end it on PostgreSQL: one savepoint per read
    if (ex) await sql`SAVEPOINT realtime_read`.execute(ex)
    try {
      const record = await read()
      if (ex) await sql`RELEASE SAVEPOINT realtime_read`.execute(ex)
      return record
    } catch (err) {
      if (ex) await sql`ROLLBACK TO SAVEPOINT realtime_read`.execute(ex)
      if (!isGalleyError(err) || err.status >= 500)
        this.#logger.warn(
          { err, collection: c.name, topic: sub.topic },
          'realtime: access check failed for a subscriber',
        )
      return undefined
    }
  }
}
