import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  parseSubscription,
  readSubscriptionRequest,
  type RealtimeClient,
  type RealtimeService,
  type Subscription,
} from '../../realtime/index.js'
import { bearerToken, peekClaims } from '../../auth/index.js'
import { clientKey } from '../client-ip.js'
import { parseFields, pickFields, type FieldsNode } from '../fields-picker.js'

/** A comment line this often keeps proxies from closing a quiet stream (not a message: no idle reset). */
export const SSE_HEARTBEAT_MS = 30_000
/** The stream ends after this long without a delivered message (PocketBase: 5 minutes). */
export const SSE_IDLE_TIMEOUT_MS = 5 * 60_000
/** The stream ends after this long whatever happens (PocketBase v0.38.2: 30 minutes). */
export const SSE_MAX_LIFETIME_MS = 30 * 60_000
/** Bytes a client may leave unread; past this it is dropped (a client that stopped reading). */
export const SSE_MAX_BUFFERED_BYTES = 1024 * 1024

export interface SseTimings {
  readonly heartbeatMs?: number
  readonly idleTimeoutMs?: number
  readonly maxLifetimeMs?: number
  readonly maxBufferedBytes?: number
}

/** What the stream writes to: a response, or a test's stand-in. */
export interface SseSink {
  write(chunk: string): boolean
  readonly writableLength: number
  end(): void
  destroy(): void
}

/**
 * One SSE stream in PocketBase's framing (§9.1): every message is `id:<clientId>`, `event:<name>`,
 * `data:<json>`. Closes itself on idle, at its maximum lifetime and when the client stops reading.
 */
export class SseStream {
  readonly #sink: SseSink
  readonly #clientId: string
  readonly #timings: Required<SseTimings>
  readonly #onClose: (reason: string) => void
  readonly #heartbeat: ReturnType<typeof setInterval>
  readonly #lifetime: ReturnType<typeof setTimeout>
  #idle: ReturnType<typeof setTimeout> | undefined
  #closed = false

  constructor(sink: SseSink, clientId: string, timings: SseTimings, onClose: (reason: string) => void) {
    this.#sink = sink
    this.#clientId = clientId
    this.#timings = {
      heartbeatMs: timings.heartbeatMs ?? SSE_HEARTBEAT_MS,
      idleTimeoutMs: timings.idleTimeoutMs ?? SSE_IDLE_TIMEOUT_MS,
      maxLifetimeMs: timings.maxLifetimeMs ?? SSE_MAX_LIFETIME_MS,
      maxBufferedBytes: timings.maxBufferedBytes ?? SSE_MAX_BUFFERED_BYTES,
    }
    this.#onClose = onClose
    this.#heartbeat = setInterval(() => this.#write(':\n\n'), this.#timings.heartbeatMs)
    this.#heartbeat.unref()
    this.#lifetime = setTimeout(() => this.close('max lifetime'), this.#timings.maxLifetimeMs)
    this.#lifetime.unref()
  }

  get closed(): boolean {
    return this.#closed
  }

  /**
   * Sends one message; false when the stream is closed (or just got closed as a slow reader). `id`:
   * the message's SSE id (an event's log id, which the client sends back as `Last-Event-ID` to
   * resume); the client id when absent, as PocketBase (the SDK reads its client id there); null:
   * no id line (custom messages, which are not in the log).
   */
  send(event: string, data: unknown, id: string | null = this.#clientId): boolean {
    if (this.#closed) return false
    if (this.#idle) clearTimeout(this.#idle)
    this.#idle = setTimeout(() => this.close('idle'), this.#timings.idleTimeoutMs)
    this.#idle.unref()
    const idLine = id === null ? '' : `id:${id}\n`
    return this.#write(`${idLine}event:${event}\ndata:${JSON.stringify(data)}\n\n`)
  }

  #write(frame: string): boolean {
    if (this.#closed) return false
    // Judged on what is still unread before this frame: a client that keeps up receives one large
    // record whole; one that left more than the cap unread has stopped reading and is dropped.
    if (this.#sink.writableLength > this.#timings.maxBufferedBytes) {
      // whatever is buffered is abandoned with the connection
      this.#finish('send buffer full')
      this.#sink.destroy()
      return false
    }
    this.#sink.write(frame)
    return true
  }

  /** Ends the stream (idle, lifetime, shutdown); the client may reconnect. */
  close(reason: string): void {
    if (this.#closed) return
    this.#finish(reason)
    this.#sink.end()
  }

  /** The connection went away. */
  gone(): void {
    if (!this.#closed) this.#finish('disconnected')
  }

  #finish(reason: string) {
    this.#closed = true
    clearInterval(this.#heartbeat)
    clearTimeout(this.#lifetime)
    if (this.#idle) clearTimeout(this.#idle)
    this.#onClose(reason)
  }
}

/** The fields tree of a subscription's `fields` option, parsed once (a 400 when invalid). */
const fieldTrees = new WeakMap<Subscription, FieldsNode | undefined>()

/** The record as the subscription's `fields` option picks it (one parse per subscription). */
export function pickRecord(sub: Subscription, record: unknown): unknown {
  if (!sub.query.fields) return record
  if (!fieldTrees.has(sub)) fieldTrees.set(sub, parseFields(sub.query.fields))
  const tree = fieldTrees.get(sub)
  return tree ? pickFields(record, tree) : record
}

/** An invalid `fields` option of any topic is the request's 400, not a failure at every delivery. */
export function checkFieldsOptions(topics: readonly string[]): void {
  topics.forEach((t, i) => {
    const fields = parseSubscription(t, i).query.fields
    if (fields) parseFields(fields)
  })
}

/**
 * When the (already verified) token of an `Authorization` value expires, in ms since the epoch:
 * the core ends the connection then.
 */
export function tokenExpiry(authorization: string | undefined): number | undefined {
  const exp = peekClaims(bearerToken(authorization) ?? '')?.exp
  return typeof exp === 'number' ? exp * 1000 : undefined
}

/** Realtime over Server-Sent Events in PocketBase's protocol (§9): connect, then set subscriptions. */
export function realtimeRoutes(realtime: RealtimeService, timings: SseTimings = {}) {
  return async (app: FastifyInstance): Promise<void> => {
    const streams = new Set<SseStream>()
    // Open streams never finish on their own: shutdown ends them so the server can close.
    app.addHook('preClose', async () => {
      for (const s of streams) s.close('shutdown')
    })

    app.get('/api/realtime', async (req: FastifyRequest, reply: FastifyReply) => {
      // before the response starts: past the per-address limit this is an ordinary 429
      // resume (EventSource's reconnect, or a client's own): after an event id, or where a client started
      const last = req.headers['last-event-id']
      const since = typeof last === 'string' && last !== '' ? realtime.resumeCursor(last) : undefined
      const client: RealtimeClient = realtime.connect(
        req.clientIp,
        clientKey(req.clientIp),
        {
          // deliveries start after a subscription request, long after `s` below exists
          send: (m) => {
            if (m.type === 'event')
              s.send(
                m.subscription.topic,
                { action: m.action, record: pickRecord(m.subscription, m.record) },
                String(m.id),
              )
            // no id: the client's Last-Event-ID stays its last event's, for a resume
            else if (m.type === 'message') s.send(m.topic, m.data, null)
            else s.send('resync', { id: m.id }, String(m.id))
          },
          end: (reason) => s.close(reason),
        },
        { since },
      )
      reply.hijack()
      const res = reply.raw
      try {
        res.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          'x-accel-buffering': 'no',
          // a stream ended by the server (idle, shutdown) takes its connection with it
          connection: 'close',
        })
      } catch (err) {
        // the response is ours now (hijacked): free the client and the connection
        realtime.disconnect(client)
        req.raw.socket.destroy()
        req.log.warn({ err }, 'realtime: the stream could not start')
        return
      }
      const s = new SseStream(res, client.id, timings, (reason) => {
        streams.delete(s)
        realtime.disconnect(client)
        req.log.debug({ clientId: client.id, reason }, 'realtime client closed')
      })
      streams.add(s)
      res.on('close', () => {
        s.gone()
        // the stream owned its connection (`connection: close`): never leave it to the server to find
        req.raw.socket.destroy()
      })
      // gone before the listener above existed: its 'close' has passed
      if (res.destroyed || req.raw.socket.destroyed) s.gone()
      s.send('PB_CONNECT', { clientId: client.id })
    })

    app.post('/api/realtime', async (req: FastifyRequest, reply: FastifyReply) => {
      const { clientId, topics } = readSubscriptionRequest(req.body)
      checkFieldsOptions(topics)
      const auth = req.actor ? { collection: req.actor.collection, record: req.actor.record } : undefined
      realtime.setSubscriptions(
        clientId,
        req.clientIp,
        auth,
        topics,
        auth ? tokenExpiry(req.headers.authorization) : undefined,
      )
      return reply.status(204).send()
    })
  }
}
