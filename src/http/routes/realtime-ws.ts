import websocket from '@fastify/websocket'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import type { AuthService } from '../../auth/index.js'
import {
  badRequest,
  fieldError,
  forbidden,
  unauthorized,
  type ErrorData,
  type GalleyError,
} from '../../lib/index.js'
import {
  MAX_SUBSCRIPTIONS_PER_CLIENT,
  readSubscriptionRequest,
  type Auth,
  type RealtimeClient,
  type RealtimeMessage,
  type RealtimeService,
} from '../../realtime/index.js'
import type { GalleyDialect } from '../../db/index.js'
import { clientKey } from '../client-ip.js'
import { toGalleyError } from '../errors.js'
import { checkFieldsOptions, pickRecord, SSE_MAX_BUFFERED_BYTES, tokenExpiry } from './realtime.js'

export const WS_PATH = '/api/realtime/ws'
/**
 * Largest message a client may send, in bytes. A subscribe message adds to the set, so one message
 * need not carry the whole set: this holds 100 topics of the longest length (MAX_TOPIC_LENGTH,
 * ASCII) or the full MAX_SUBSCRIPTIONS_PER_CLIENT set at ~250 bytes a topic.
 */
export const WS_MAX_MESSAGE_BYTES = 256 * 1024
/** Bytes a client may leave unread (as SSE); past this it is closed with WS_CLOSE.sendBufferFull. */
export const WS_MAX_BUFFERED_BYTES = SSE_MAX_BUFFERED_BYTES
/** A ping frame this often; browsers and `ws` answer with a pong by themselves. */
export const WS_HEARTBEAT_MS = 30_000
/** A connection that sent nothing, not even a pong, for this long is dropped (a dead peer). */
export const WS_IDLE_TIMEOUT_MS = 75_000
/** Messages a client may send per window; past this it is closed with WS_CLOSE.policy. */
export const WS_MAX_MESSAGES = 200
/** Invalid messages (error replies) a client may cause per window; past this, closed likewise. */
export const WS_MAX_INVALID_MESSAGES = 20
/** The window of the two message counters, from the connection's start. */
export const WS_MESSAGE_WINDOW_MS = 10_000
/** How long a closing handshake may take before the socket is cut (shutdown, slow clients). */
export const WS_CLOSE_GRACE_MS = 2000

/**
 * Close codes the server uses (1009 for an oversized message comes from `ws` itself; an idle peer is
 * cut without a close frame, 1006 on its side).
 */
export const WS_CLOSE = {
  /** The server is shutting down: reconnect (with `since`) to another instance or later. */
  shutdown: 1001,
  /** Too many messages or too many invalid ones. */
  policy: 1008,
  /** The client stopped reading and its unread data passed WS_MAX_BUFFERED_BYTES: reconnect with `since`. */
  sendBufferFull: 4000,
  /** The server ended the session (its auth was revoked or expired…): the reason says why. */
  ended: 4001,
} as const

export interface WsOptions {
  readonly heartbeatMs?: number
  readonly idleTimeoutMs?: number
  readonly maxBufferedBytes?: number
  readonly maxMessages?: number
  readonly maxInvalidMessages?: number
  readonly messageWindowMs?: number
  readonly closeGraceMs?: number
  /**
   * Origins whose pages may open a connection (the server's CORS origins; `*` = any). Browsers do
   * not apply CORS to WebSockets: the upgrade's `Origin` is checked here instead (clients without
   * one, outside browsers, are not concerned).
   */
  readonly origins?: readonly string[]
}

/** `?since=` of the upgrade request: a non-negative integer event id, or undefined. */
function readSince(query: unknown): number | undefined {
  const raw = (query as Record<string, unknown> | undefined)?.since
  if (raw === undefined || raw === '') return undefined
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw))
    throw badRequest(undefined, {
      since: fieldError('validation_invalid_value', 'Must be a non-negative integer event id.'),
    })
  return Number(raw)
}

/**
 * Event frames encoded once per event and topic: the core hands every client of a group the same
 * record object in one synchronous loop, so 10,000 subscribers cost one JSON encoding, not 10,000.
 * Kept for the current tick only. Published messages are encoded per client: their data belongs to
 * the publisher, who may change it between two publishes.
 */
let encoded: Map<object, Map<string, Buffer>> | undefined

function frameOf(m: RealtimeMessage): Buffer {
  const source = m.type === 'event' ? m.record : undefined
  const key = m.type === 'event' ? `${m.id}\n${m.action}\n${m.subscription.topic}` : ''
  const cacheable = typeof source === 'object' && source !== null
  const cached = cacheable ? encoded?.get(source)?.get(key) : undefined
  if (cached) return cached
  const frame =
    m.type === 'event'
      ? {
          type: 'event',
          id: m.id,
          topic: m.subscription.topic,
          action: m.action,
          record: pickRecord(m.subscription, m.record),
        }
      : m.type === 'resync'
        ? { type: 'resync', id: m.id }
        : { type: 'message', topic: m.topic, data: m.data }
  const bytes = Buffer.from(JSON.stringify(frame))
  if (cacheable) {
    if (!encoded) {
      encoded = new Map()
      process.nextTick(() => (encoded = undefined))
    }
    let frames = encoded.get(source)
    if (!frames) encoded.set(source, (frames = new Map()))
    frames.set(key, bytes)
  }
  return bytes
}

type Incoming = Record<string, unknown> & { requestId?: unknown }

const invalidMessage = (message: string, data?: ErrorData) => badRequest(message, data)

/** A close reason fits in 123 bytes (RFC 6455 §5.5: a control frame's payload is at most 125). */
function closeReason(reason: string): string {
  let r = reason
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1)
  return r
}

/**
 * One WebSocket client over the realtime core: a small JSON protocol (docs/realtime.md). Messages
 * are handled one at a time in arrival order; each reply echoes the message's `requestId`.
 */
class WsSession {
  readonly #socket: WebSocket
  readonly #client: RealtimeClient
  readonly #realtime: RealtimeService
  readonly #auth: AuthService
  readonly #o: Required<WsOptions>
  readonly #dialect: GalleyDialect
  readonly #log: FastifyBaseLogger
  readonly #onClose: () => void
  readonly #heartbeat: ReturnType<typeof setInterval>
  /** The subscription set, in the order topics were first added. */
  #topics: string[] = []
  /** When the token that set the auth expires, passed on with every change of the set. */
  #authExpires: number | undefined
  #queue: Promise<void> = Promise.resolve()
  #lastSeen = Date.now()
  #windowStart = Date.now()
  #messages = 0
  #invalid = 0
  #closed = false

  constructor(
    socket: WebSocket,
    client: RealtimeClient,
    realtime: RealtimeService,
    auth: AuthService,
    options: Required<WsOptions>,
    dialect: GalleyDialect,
    log: FastifyBaseLogger,
    authExpires: number | undefined,
    onClose: () => void,
  ) {
    this.#authExpires = authExpires
    this.#dialect = dialect
    this.#log = log
    this.#socket = socket
    this.#client = client
    this.#realtime = realtime
    this.#auth = auth
    this.#o = options
    this.#onClose = onClose
    socket.on('message', (data, isBinary) => this.#receive(data as Buffer, isBinary))
    socket.on('pong', () => (this.#lastSeen = Date.now()))
    socket.on('close', () => this.#finish())
    this.#heartbeat = setInterval(() => this.#beat(), this.#o.heartbeatMs)
    this.#heartbeat.unref()
  }

  /** The core's messages, framed for this protocol. */
  deliver(m: RealtimeMessage): void {
    this.#send(frameOf(m))
  }

  /** Closes with a code and a reason; the socket is cut if the handshake does not finish in time. */
  close(code: number, reason: string): void {
    if (this.#socket.readyState === this.#socket.CLOSED) return
    this.#finish()
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.close(code, closeReason(reason))
    const cut = setTimeout(() => this.#socket.terminate(), this.#o.closeGraceMs)
    cut.unref()
    this.#socket.once('close', () => clearTimeout(cut))
  }

  start(): void {
    this.#send({ type: 'connected', clientId: this.#client.id })
  }

  #send(frame: object | Buffer): void {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return
    // Judged on what is still unread before this frame (as SSE): a client that keeps up receives
    // one large record whole; one that left more than the cap unread has stopped reading.
    if (this.#socket.bufferedAmount > this.#o.maxBufferedBytes) {
      this.close(WS_CLOSE.sendBufferFull, 'send buffer full')
      return
    }
    if (Buffer.isBuffer(frame)) this.#socket.send(frame, { binary: false })
    else this.#socket.send(JSON.stringify(frame))
  }

  #beat(): void {
    if (Date.now() - this.#lastSeen >= this.#o.idleTimeoutMs) {
      this.#finish()
      this.#socket.terminate()
      return
    }
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.ping()
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#heartbeat)
    this.#onClose()
  }

  #receive(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return
    const now = Date.now()
    this.#lastSeen = now
    if (now - this.#windowStart >= this.#o.messageWindowMs) {
      this.#windowStart = now
      this.#messages = 0
      this.#invalid = 0
    }
    if (++this.#messages > this.#o.maxMessages) {
      this.close(WS_CLOSE.policy, 'too many messages')
      return
    }
    let msg: Incoming | undefined
    let parseError: GalleyError | undefined
    if (isBinary) parseError = invalidMessage('Messages must be JSON text.')
    else {
      try {
        const value: unknown = JSON.parse(data.toString('utf8'))
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) msg = value as Incoming
        else parseError = invalidMessage('A message must be a JSON object.')
      } catch {
        parseError = invalidMessage('A message must be valid JSON.')
      }
    }
    const requestId = msg ? this.#requestId(msg.requestId) : undefined
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return
      try {
        if (parseError || !msg) throw parseError
        const reply = await this.#handle(msg)
        this.#send({ ...reply, ...(requestId === undefined ? {} : { requestId }) })
      } catch (err) {
        const e = toGalleyError(err, this.#dialect)
        if (e.status >= 500)
          this.#log.warn({ err, clientId: this.#client.id }, 'realtime websocket message failed')
        this.#send({ type: 'error', ...(requestId === undefined ? {} : { requestId }), ...e.toJSON() })
        if (e.status < 500 && ++this.#invalid > this.#o.maxInvalidMessages)
          this.close(WS_CLOSE.policy, 'too many invalid messages')
      }
    })
  }

  /** A string or number of at most 100 characters, echoed in the reply; anything else is dropped. */
  #requestId(v: unknown): string | number | undefined {
    if (typeof v === 'number' && Number.isFinite(v)) return v
    if (typeof v === 'string' && v.length <= 100) return v
    return undefined
  }

  async #handle(msg: Incoming): Promise<object> {
    switch (msg.type) {
      case 'ping':
        return { type: 'pong' }
      case 'auth':
        await this.#authenticate(msg.token)
        return { type: 'ok' }
      case 'subscribe':
        this.#set([...new Set([...this.#topics, ...this.#readTopics(msg.topics)])], this.#client.auth)
        return { type: 'ok', topics: this.#topics }
      case 'unsubscribe': {
        if (msg.topics === undefined) this.#set([], this.#client.auth)
        else {
          const drop = this.#readTopics(msg.topics)
          // a topic without options removes it with every options variant, as the SDK's unsubscribe
          const removed = (t: string) =>
            drop.some((d) => d === t || (!d.includes('?') && t.startsWith(`${d}?`)))
          this.#set(
            this.#topics.filter((t) => !removed(t)),
            this.#client.auth,
          )
        }
        return { type: 'ok', topics: this.#topics }
      }
      default:
        throw invalidMessage('Unknown message type.', {
          type: fieldError('validation_invalid_value', 'Must be one of auth, subscribe, unsubscribe, ping.'),
        })
    }
  }

  /** The topics of a message, checked like POST /api/realtime's (count, length, line breaks, options). */
  #readTopics(topics: unknown): string[] {
    const { topics: list } = readSubscriptionRequest({
      clientId: this.#client.id,
      subscriptions: topics ?? [],
    })
    checkFieldsOptions(list)
    return list
  }

  /** Replaces the whole set in the core, which checks it (and the auth change) and re-parses the options. */
  #set(topics: string[], auth: Auth, authExpires = this.#authExpires): void {
    if (topics.length > MAX_SUBSCRIPTIONS_PER_CLIENT)
      throw badRequest(undefined, {
        subscriptions: fieldError(
          'validation_length_too_long',
          `The length must be no more than ${MAX_SUBSCRIPTIONS_PER_CLIENT}.`,
        ),
      })
    this.#realtime.setSubscriptions(this.#client.id, this.#client.ip, auth, topics, authExpires)
    this.#topics = topics
    this.#authExpires = authExpires
  }

  /**
   * `auth`: a token as the REST API's Authorization header takes it, or null for a guest. An invalid,
   * expired or revoked token is an error (never a silent guest); the core refuses to switch a
   * signed-in client to another record or back to a guest (403). The set is re-checked with it.
   */
  async #authenticate(token: unknown): Promise<void> {
    let auth: Auth
    let expires: number | undefined
    if (token === null || token === undefined || token === '') auth = undefined
    else if (typeof token !== 'string')
      throw badRequest(undefined, {
        token: fieldError('validation_invalid_value', 'Must be a string or null.'),
      })
    else {
      const actor = await this.#auth.resolveActor(token)
      if (!actor) throw unauthorized()
      auth = { collection: actor.collection, record: actor.record }
      expires = tokenExpiry(token)
    }
    // a guest keeps no expiry; the same record signing in again takes its new token's
    this.#set(this.#topics, auth, auth ? expires : undefined)
  }
}

/** `@fastify/websocket`, registered once at the root (before any route, so it sees every upgrade). */
export async function registerWebsocket(
  app: FastifyInstance,
  closeGraceMs = WS_CLOSE_GRACE_MS,
): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: WS_MAX_MESSAGE_BYTES, perMessageDeflate: false },
    // errors of a socket (a frame too big, bad framing) are the client's: `ws` already closes it
    errorHandler: (err, socket, req) => {
      req.log.debug({ err: err.message }, 'websocket error')
      if (socket.readyState === socket.OPEN) socket.close(1011, 'internal error')
    },
    // shutdown: the sessions close their sockets with 1001 (the route's preClose); anything left is cut
    preClose: async function (this: FastifyInstance) {
      const wss = this.websocketServer
      const deadline = Date.now() + closeGraceMs
      for (const s of wss.clients)
        if (s.readyState === s.OPEN) s.close(WS_CLOSE.shutdown, 'server shutting down')
      while (wss.clients.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
      for (const s of wss.clients) s.terminate()
      await new Promise<void>((r) => wss.close(() => r()))
    },
  })
}

/**
 * Realtime over WebSocket at `/api/realtime/ws` (docs/realtime.md): the same core, topics, rules and
 * resume as SSE. The client is registered before the upgrade, so the per-address limit is a 429
 * and a bad `?since=` a 400, both as ordinary HTTP answers.
 */
export function realtimeWsRoutes(
  realtime: RealtimeService,
  auth: AuthService,
  dialect: GalleyDialect,
  options: WsOptions = {},
) {
  const o: Required<WsOptions> = {
    heartbeatMs: options.heartbeatMs ?? WS_HEARTBEAT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? WS_IDLE_TIMEOUT_MS,
    maxBufferedBytes: options.maxBufferedBytes ?? WS_MAX_BUFFERED_BYTES,
    maxMessages: options.maxMessages ?? WS_MAX_MESSAGES,
    maxInvalidMessages: options.maxInvalidMessages ?? WS_MAX_INVALID_MESSAGES,
    messageWindowMs: options.messageWindowMs ?? WS_MESSAGE_WINDOW_MS,
    closeGraceMs: options.closeGraceMs ?? WS_CLOSE_GRACE_MS,
    origins: options.origins ?? ['*'],
  }
  const anyOrigin = o.origins.includes('*')
  return async (app: FastifyInstance): Promise<void> => {
    const pending = new WeakMap<
      FastifyRequest,
      { client: RealtimeClient; expires: number | undefined; bind(s: WsSession): void }
    >()
    const sessions = new Set<WsSession>()
    app.addHook('preClose', async () => {
      for (const s of sessions) s.close(WS_CLOSE.shutdown, 'server shutting down')
    })

    app.get(
      WS_PATH,
      {
        websocket: true,
        preValidation: async (req) => {
          if (!req.ws) throw badRequest('Expected a WebSocket upgrade.')
          const origin = req.headers.origin
          if (!anyOrigin && origin !== undefined && !o.origins.includes(origin))
            throw forbidden('The origin is not allowed.')
          const raw = readSince(req.query)
          const since = raw === undefined ? undefined : realtime.resumeCursor(String(raw))
          // a header on the upgrade (Node clients) is an initial auth; an invalid one is refused
          const header = req.headers.authorization
          if (header && !req.actor) throw unauthorized()
          let session: WsSession | undefined
          const client = realtime.connect(
            req.clientIp,
            clientKey(req.clientIp),
            {
              send: (m) => session?.deliver(m),
              end: (reason) => session?.close(WS_CLOSE.ended, reason),
            },
            { since },
          )
          // whatever happens to the upgrade, the place is given back with the socket
          req.raw.socket.once('close', () => realtime.disconnect(client))
          const expires = req.actor ? tokenExpiry(header) : undefined
          if (req.actor)
            realtime.setSubscriptions(
              client.id,
              client.ip,
              { collection: req.actor.collection, record: req.actor.record },
              [],
              expires,
            )
          pending.set(req, { client, expires, bind: (s) => (session = s) })
        },
      },
      (socket: WebSocket, req: FastifyRequest) => {
        const p = pending.get(req)
        if (!p) {
          socket.close(1011, 'internal error')
          return
        }
        const session: WsSession = new WsSession(
          socket,
          p.client,
          realtime,
          auth,
          o,
          dialect,
          req.log,
          p.expires,
          () => {
            sessions.delete(session)
            realtime.disconnect(p.client)
          },
        )
        sessions.add(session)
        p.bind(session)
        session.start()
      },
    )
  }
}
