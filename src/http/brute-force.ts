import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { FixedWindowCounter, GalleyError, type WindowLimit } from '../lib/index.js'
import type { CollectionService } from '../schema/index.js'
import type { AttemptLimit, SettingsService } from '../settings/index.js'
import { clientKey } from './client-ip.js'
import { routeKey } from './rate-limit.js'

/** Most counters (per client, per identity and client, per identity) held at once. */
export const MAX_BRUTE_FORCE_KEYS = 200_000
/** Most (identity, client) pairs remembered as having signed in successfully. */
export const MAX_KNOWN_CLIENTS = 100_000
/** How long a successful sign-in makes its client "known" for that identity. */
export const KNOWN_CLIENT_MS = 30 * 24 * 60 * 60 * 1000
/** Characters of an identity that make its key (the services refuse longer identities anyway). */
const MAX_IDENTITY_KEY_CHARS = 2048

/**
 * The endpoints that check a secret, and the body field naming what is attacked. Keyed as
 * `rate-limit.ts` keys routes, so the OTP route file needs nothing to be covered.
 */
const GUARDED: Readonly<Record<string, string>> = {
  'POST /api/collections/:/auth-with-password': 'identity',
  'POST /api/collections/:/auth-with-otp': 'otpId',
}

/** One reserved attempt; a successful one gives its reservation back. */
export interface Attempt {
  succeeded(): void
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
 * that signed in to the identity within `KNOWN_CLIENT_MS` skips that ceiling altogether, so even a
 * distributed attack leaves the owner's usual devices working. Keys come only from the route's
 * collection, the normalised attacked field and the trusted client address: extra body fields,
 * spoofed proxy headers and `identityField` change nothing.
 */
export class BruteForceGuard {
  readonly #settings: SettingsService
  readonly #counters: FixedWindowCounter
  readonly #known = new Map<string, number>()
  readonly #now: () => number

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
    const client = clientKey(ip)
    const id = normalizeIdentity(identity)
    const windows: [string, WindowLimit][] = [[`c\u0000${client}`, limit(cfg.perIP)]]
    const pair = id === '' ? undefined : `${digest(scope, id)}\u0000${client}`
    if (pair !== undefined) {
      windows.push([`p\u0000${pair}`, limit(cfg.perIdentityAndIP)])
      if (!this.#isKnown(pair)) windows.push([`i\u0000${digest(scope, id)}`, limit(cfg.perIdentity)])
    }
    // All or nothing: a refused attempt spends no window (it never reaches the hash).
    if (!windows.every(([key, l]) => this.#counters.allows(key, l))) throw new GalleyError('RATE_LIMITED')
    for (const [key, l] of windows) this.#counters.take(key, l)
    return {
      succeeded: () => {
        for (const [key] of windows) this.#counters.refund(key)
        if (pair !== undefined) this.#remember(pair)
      },
    }
  }
}

/**
 * Puts the guard on the guarded routes (present and future: an `onRoute` hook, so register this
 * before the routes). It runs as a preHandler, once the body is parsed and before the handler
 * hashes anything; a 2xx answer gives the attempt back.
 */
export function registerBruteForce(
  app: FastifyInstance,
  guard: BruteForceGuard,
  collections: CollectionService,
): void {
  const attempts = new WeakMap<FastifyRequest, Attempt>()
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const field = methods.map((m) => GUARDED[routeKey(m, route.url)]).find((f) => f !== undefined)
    const param = /^\/api\/collections\/:(\w+)\//.exec(route.url)?.[1]
    if (field === undefined || param === undefined) return
    const preHandler = async (req: FastifyRequest) => {
      const idOrName = (req.params as Record<string, unknown>)[param]
      const c = typeof idOrName === 'string' ? collections.find(idOrName) : undefined
      // Not an auth collection: the handler answers 404 without checking anything.
      if (!c || c.type !== 'auth') return
      const body = req.body
      const value =
        typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined
      const attempt = guard.begin(c.id, value, req.clientIp)
      if (attempt) attempts.set(req, attempt)
    }
    const onResponse = async (req: FastifyRequest, reply: { statusCode: number }) => {
      if (reply.statusCode >= 200 && reply.statusCode < 300) attempts.get(req)?.succeeded()
    }
    route.preHandler = [...toArray(route.preHandler), preHandler]
    route.onResponse = [...toArray(route.onResponse), onResponse]
  })
}

function toArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}
