import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { peekClaims } from '../auth/index.js'
import { FixedWindowCounter, GalleyError, type WindowLimit } from '../lib/index.js'
import type { CollectionService } from '../schema/index.js'
import type { AttemptLimit, SettingsService } from '../settings/index.js'
import { clientKey, isPrivateAddress, normalizeIp } from './client-ip.js'
import { matchBatchAction, readBatchRequests, type BatchRequestInput } from './batch-request.js'
import { routeKey } from './rate-limit.js'

/** Most counters (per client, per identity and client, per identity) held at once. */
export const MAX_BRUTE_FORCE_KEYS = 200_000
/** Most (identity, client) pairs remembered as having signed in successfully. */
export const MAX_KNOWN_CLIENTS = 100_000
/** How long a successful sign-in makes its client "known" for that identity. */
export const KNOWN_CLIENT_MS = 30 * 24 * 60 * 60 * 1000
/** Characters of an identity that make its key (the services refuse longer identities anyway). */
const MAX_IDENTITY_KEY_CHARS = 2048

/** The scope of keys naming a record by id (its password is what is guessed). */
const RECORD = '\u0000record'
/** The scope of keys naming an email-change token whose record id could not be read. */
const TOKEN = '\u0000token'
/** Longest mail token whose claims are peeked (the service refuses longer ones unparsed). */
const MAX_TOKEN_CHARS = 4096

type Body = Readonly<Record<string, unknown>> | undefined

/**
 * What an attempt attacks: a scope within its collection ('' for identities and OTP ids) and the
 * value naming the target; undefined when this request checks no secret.
 */
interface Target {
  readonly scope: string
  readonly identity: unknown
}

const field =
  (name: string) =>
  (body: Body): Target => ({ scope: '', identity: body?.[name] })

/**
 * The record an email-change token names, read without verifying it (verifying needs the record):
 * a forged claim only spends windows of the record it names, never more than one client may. A
 * token without a readable `id` is keyed by its hash, never by a free field of the body.
 */
export function emailChangeTarget(body: Body): Target {
  const token = body?.token
  if (typeof token !== 'string' || token === '') return { scope: RECORD, identity: '' }
  const id = token.length <= MAX_TOKEN_CHARS ? peekClaims(token)?.id : undefined
  return id
    ? { scope: RECORD, identity: id }
    : { scope: TOKEN, identity: createHash('sha256').update(token).digest('base64url') }
}

/** A record update checks the current password only when `oldPassword` is sent. */
const updateTarget = (body: Body, recordId: unknown): Target | undefined =>
  body !== undefined && Object.hasOwn(body, 'oldPassword') ? { scope: RECORD, identity: recordId } : undefined

/**
 * The endpoints that check a password or code, and what each attempt attacks (`recordId` is the
 * route's second parameter). Keyed as `rate-limit.ts` keys routes, so the route files need nothing
 * to be covered. Record updates sent in a batch are covered by the batch route's own hook.
 */
const GUARDED: Readonly<Record<string, (body: Body, recordId: unknown) => Target | undefined>> = {
  'POST /api/collections/:/auth-with-password': field('identity'),
  'POST /api/collections/:/auth-with-otp': field('otpId'),
  'POST /api/collections/:/confirm-email-change': emailChangeTarget,
  'PATCH /api/collections/:/records/:': updateTarget,
}

/** One reserved attempt; a successful one gives its reservation back. */
export interface Attempt {
  succeeded(): void
  /** Gives the reservation back without remembering the client (the attempt never ran). */
  cancel(): void
}

const limit = (l: AttemptLimit): WindowLimit => ({ max: l.maxRequests, windowMs: l.duration * 1000 })

/** Trimmed, lower-cased, NFKC: every spelling the lookups treat alike counts as one identity. */
export function normalizeIdentity(v: unknown): string {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return ''
  return String(v).slice(0, MAX_IDENTITY_KEY_CHARS).normalize('NFKC').trim().toLowerCase()
}

const digest = (scope: string, identity: string): string =>
  createHash('sha256').update(scope).update('\u0000').update(identity).digest('base64url')

/**
 * Galley's brute-force guard (`settings.bruteForce`, on by default), run before any password or code
 * is hashed. Each attempt reserves one unit from three windows: the client (IPv6 by /64), the
 * identity from that client, and the identity across all clients. Any exhausted window answers the
 * same 429 as PocketBase's limiter, for known and unknown identities alike (no lookup happens here).
 * A successful attempt gives its units back, so only failures count.
 *
 * Malicious lockout (ASVS 6.3.1): the per-identity ceiling is kept above what one client may spend
 * (settings validation enforces it), so one attacking address cannot lock anyone out; and a client
 * that succeeded on the identity within `KNOWN_CLIENT_MS` (remembered per identity and client, so
 * it is worth nothing for other identities) skips both the per-identity ceiling and the per-client
 * window: a distributed attack leaves the owner's usual devices working, and neither does another
 * user behind the same address (NAT, or an unconfigured reverse proxy) lock them out by failing on
 * other identities. The identity-from-client window always applies. Keys come only from the route's
 * collection, the normalised attacked field and the trusted client address: extra body fields,
 * spoofed proxy headers and `identityField` change nothing.
 */
export class BruteForceGuard {
  readonly #settings: SettingsService
  readonly #counters: FixedWindowCounter
  readonly #known = new Map<string, number>()
  readonly #now: () => number
  #warnedSharedAddress = false

  constructor(settings: SettingsService, now: () => number = () => Date.now()) {
    this.#settings = settings
    this.#now = now
    this.#counters = new FixedWindowCounter(MAX_BRUTE_FORCE_KEYS, now)
  }

  #isKnown(key: string): boolean {
    const until = this.#known.get(key)
    if (until === undefined) return false
    if (until > this.#now()) return true
    this.#known.delete(key)
    return false
  }

  #remember(key: string): void {
    this.#known.delete(key)
    if (this.#known.size >= MAX_KNOWN_CLIENTS) {
      const oldest = this.#known.keys().next()
      if (!oldest.done) this.#known.delete(oldest.value)
    }
    this.#known.set(key, this.#now() + KNOWN_CLIENT_MS)
  }

  /**
   * Reserves one attempt on `identity` of `scope` (a collection id) from `ip`; throws the 429 when a
   * window is exhausted. Undefined when the guard is off.
   */
  begin(scope: string, identity: unknown, ip: string): Attempt | undefined {
    const cfg = this.#settings.get().bruteForce
    if (!cfg.enabled) return undefined
    const client = clientKey(ip || 'unknown')
    const id = normalizeIdentity(identity)
    const pair = id === '' ? undefined : `${digest(scope, id)}\u0000${client}`
    const windows: [string, WindowLimit][] = []
    if (pair === undefined) windows.push([`c\u0000${client}`, limit(cfg.perIP)])
    else {
      windows.push([`p\u0000${pair}`, limit(cfg.perIdentityAndIP)])
      if (!this.#isKnown(pair))
        windows.push(
          [`c\u0000${client}`, limit(cfg.perIP)],
          [`i\u0000${digest(scope, id)}`, limit(cfg.perIdentity)],
        )
    }
    // All or nothing: a refused attempt spends no window (it never reaches the hash).
    if (!windows.every(([key, l]) => this.#counters.allows(key, l))) throw new GalleyError('RATE_LIMITED')
    for (const [key, l] of windows) this.#counters.take(key, l)
    const refund = () => {
      for (const [key] of windows) this.#counters.refund(key)
    }
    return {
      succeeded: () => {
        refund()
        if (pair !== undefined) this.#remember(pair)
      },
      cancel: refund,
    }
  }

  /**
   * True once, for the first attempt whose socket peer is a loopback or private address (or none:
   * a Unix socket) while no trusted proxy header is configured: every client then likely shares the
   * proxy's address, and with it the per-client window.
   */
  sharedAddressSuspected(peer: string | undefined): boolean {
    if (this.#warnedSharedAddress || this.#settings.get().trustedProxy.headers.length > 0) return false
    const ip = peer === undefined ? undefined : normalizeIp(peer)
    if (ip !== undefined && !isPrivateAddress(ip)) return false
    this.#warnedSharedAddress = true
    return true
  }
}

const SHARED_ADDRESS_WARNING =
  'brute-force guard: requests come from a loopback or private address and settings.trustedProxy.headers ' +
  'is empty, so all clients behind this proxy or NAT share one address and one per-IP attempt window; ' +
  'configure trustedProxy if Galley runs behind a reverse proxy'

/**
 * The record updates of a batch (`POST /api/batch`) that send `oldPassword`, each as the route
 * `PATCH /api/collections/{c}/records/{id}` would be guarded (an upsert names its record in the
 * body). A body the batch route cannot read gives nothing: the route refuses it.
 */
function batchTargets(
  body: unknown,
  collections: CollectionService,
): { collection: string; target: Target }[] {
  let requests: BatchRequestInput[]
  try {
    requests = readBatchRequests(body, Number.MAX_SAFE_INTEGER)
  } catch {
    return []
  }
  const out: { collection: string; target: Target }[] = []
  for (const r of requests) {
    const action = matchBatchAction(r.method, r.url)
    if (action?.kind !== 'update' && action?.kind !== 'upsert') continue
    const c = collections.find(action.collection)
    if (!c || c.type !== 'auth') continue
    const target = updateTarget(r.body, action.kind === 'update' ? action.id : r.body.id)
    if (target) out.push({ collection: c.id, target })
  }
  return out
}

/**
 * Puts the guard on the guarded routes and on the batch route (present and future: an `onRoute`
 * hook, so register this before the routes). It runs as a preHandler, once the body is parsed and
 * before the handler hashes anything; a 2xx answer gives the attempts back.
 */
export function registerBruteForce(
  app: FastifyInstance,
  guard: BruteForceGuard,
  collections: CollectionService,
): void {
  const attempts = new WeakMap<FastifyRequest, Attempt[]>()
  /** Reserves every attempt or none (a 429 gives back those already reserved). */
  const reserve = (req: FastifyRequest, targets: readonly { collection: string; target: Target }[]) => {
    if (targets.length === 0) return
    if (guard.sharedAddressSuspected(req.raw.socket?.remoteAddress))
      req.log.warn({ clientIp: req.clientIp }, SHARED_ADDRESS_WARNING)
    const taken: Attempt[] = []
    try {
      for (const { collection, target } of targets) {
        const attempt = guard.begin(`${collection}${target.scope}`, target.identity, req.clientIp)
        if (attempt) taken.push(attempt)
      }
    } catch (err) {
      for (const a of taken) a.cancel()
      throw err
    }
    if (taken.length > 0) attempts.set(req, taken)
  }
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const keys = methods.map((m) => routeKey(m, route.url))
    const targetOf = keys.map((k) => GUARDED[k]).find((f) => f !== undefined)
    const params = [...route.url.matchAll(/\/:(\w+)/g)].map((m) => m[1]!)
    let preHandler: ((req: FastifyRequest) => Promise<void>) | undefined
    if (keys.includes('POST /api/batch'))
      preHandler = async (req) => reserve(req, batchTargets(req.body, collections))
    else if (targetOf !== undefined && /^\/api\/collections\/:/.test(route.url))
      preHandler = async (req) => {
        const p = req.params as Record<string, unknown>
        const idOrName = p[params[0]!]
        const c = typeof idOrName === 'string' ? collections.find(idOrName) : undefined
        // Not an auth collection: the handler answers 404 or checks no secret.
        if (!c || c.type !== 'auth') return
        const body = typeof req.body === 'object' && req.body !== null ? (req.body as Body) : undefined
        const target = targetOf(body, params[1] === undefined ? undefined : p[params[1]])
        if (target) reserve(req, [{ collection: c.id, target }])
      }
    if (preHandler === undefined) return
    const onResponse = async (req: FastifyRequest, reply: { statusCode: number }) => {
      if (reply.statusCode >= 200 && reply.statusCode < 300)
        for (const a of attempts.get(req) ?? []) a.succeeded()
    }
    route.preHandler = [...toArray(route.preHandler), preHandler]
    route.onResponse = [...toArray(route.onResponse), onResponse]
  })
}

function toArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}
