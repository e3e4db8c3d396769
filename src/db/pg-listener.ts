import pg from 'pg'
import type { Logger } from '../lib/index.js'

interface Channel {
  readonly handlers: Set<(payload: string) => void>
  readonly reconnectHandlers: Set<() => void>
}

const RETRY_MS = 500

/**
 * One dedicated connection that LISTENs on every subscribed channel. When the connection drops it
 * reconnects with a short retry and tells subscribers (`onReconnect`), because NOTIFYs sent while
 * it was away are lost: they must re-read what they cache.
 */
export class PgListener {
  readonly #url: string
  readonly #logger: Logger
  readonly #channels = new Map<string, Channel>()
  #client: pg.Client | undefined
  #connecting: Promise<void> | undefined
  #closed = false
  #retry: NodeJS.Timeout | undefined
  /** Set once a connection was attempted: any later success follows a gap that may have lost NOTIFYs. */
  #attempted = false

  constructor(url: string, logger: Logger) {
    this.#url = url
    this.#logger = logger
  }

  /** The connection's queries, one after the other (pg deprecates overlapping ones). */
  #serial: Promise<void> = Promise.resolve()

  /** Runs `fn` after the connection's earlier queries (its failure is the caller's alone). */
  #inOrder(fn: () => Promise<void>): Promise<void> {
    const done = this.#serial.then(fn)
    this.#serial = done.catch(() => undefined)
    return done
  }

  subscribe(channel: string, fn: (payload: string) => void, onReconnect?: () => void): () => void {
    let ch = this.#channels.get(channel)
    const isNew = ch === undefined
    if (!ch) {
      ch = { handlers: new Set(), reconnectHandlers: new Set() }
      this.#channels.set(channel, ch)
    }
    ch.handlers.add(fn)
    if (onReconnect) ch.reconnectHandlers.add(onReconnect)
    if (isNew) void this.#listen(channel)
    return () => {
      ch.handlers.delete(fn)
      if (onReconnect) ch.reconnectHandlers.delete(onReconnect)
    }
  }

  async #listen(channel: string): Promise<void> {
    try {
      await this.#ensure()
      // one query at a time on the connection (subscriptions made together, a reconnect's LISTENs)
      const client = this.#client
      await this.#inOrder(async () => {
        await client?.query(`LISTEN ${pg.escapeIdentifier(channel)}`)
      })
    } catch (err) {
      if (this.#closed) return
      this.#logger.warn({ err: (err as Error).message }, 'postgres LISTEN failed; will retry')
      this.#scheduleReconnect()
    }
  }

  #ensure(): Promise<void> {
    if (this.#client) return Promise.resolve()
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#url,
      connectionTimeoutMillis: 1500,
      keepAlive: true,
    })
    client.on('error', (err) => {
      this.#logger.warn({ err: err.message }, 'postgres listener connection lost')
      this.#drop(client)
    })
    client.on('end', () => this.#drop(client))
    client.on('notification', (msg) => {
      const ch = this.#channels.get(msg.channel)
      if (!ch) return
      for (const h of ch.handlers) h(msg.payload ?? '')
    })
    const afterGap = this.#attempted
    this.#attempted = true
    await client.connect()
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    await this.#inOrder(async () => {
      for (const name of this.#channels.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(name)}`)
    })
    // close() may have run during the LISTENs: it could not see this client, so end it here, or its
    // socket keeps the process alive (a CLI command that finishes fast would never exit).
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
    if (afterGap) {
      for (const ch of this.#channels.values()) for (const h of ch.reconnectHandlers) h()
    }
  }

  #drop(client: pg.Client): void {
    if (this.#client !== client) return
    this.#client = undefined
    client.removeAllListeners('notification')
    client.end().catch(() => {})
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retry) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      this.#ensure().catch((err: Error) => {
        this.#logger.debug({ err: err.message }, 'postgres listener reconnect failed')
        this.#scheduleReconnect()
      })
    }, RETRY_MS)
    this.#retry.unref()
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#retry) clearTimeout(this.#retry)
    const c = this.#client
    this.#client = undefined
    if (c) await c.end().catch(() => {})
  }
}
