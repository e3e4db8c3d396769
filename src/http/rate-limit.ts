import type { FastifyRequest } from 'fastify'
import { isSuperuser, type Actor } from '../auth/index.js'
import { FixedWindowCounter, GalleyError } from '../lib/index.js'
import type { CollectionService } from '../schema/index.js'
import type { RateLimitRule, Settings, SettingsService } from '../settings/index.js'
import { matchBatchAction, type BatchRequestInput } from './batch-request.js'
import { clientKey, normalizeIp } from './client-ip.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Rate limit tags of a collection route (§1.6), when the table below does not name it. */
    rateLimitTags?: readonly string[]
  }
}

/** Most (rule bucket, client) counters held; past it the least recently used is forgotten. */
export const MAX_RATE_LIMIT_KEYS = 100_000

/**
 * PocketBase's tags per collection route (§1.6), by method and route pattern with parameter names
 * blanked (`:`), so a route file added later is covered whatever it names its parameters. The
 * collection is the route's first parameter, `/api/{collections|files}/:c/...`.
 */
const ROUTE_TAGS: Readonly<Record<string, readonly string[]>> = {
  'GET /api/collections/:/records': ['list'],
  'GET /api/collections/:/records/:': ['view'],
  'POST /api/collections/:/records': ['create'],
  'PATCH /api/collections/:/records/:': ['update'],
  'DELETE /api/collections/:/records/:': ['delete'],
  'GET /api/collections/:/auth-methods': ['listAuthMethods'],
  'POST /api/collections/:/auth-refresh': ['authRefresh'],
  'POST /api/collections/:/auth-with-password': ['authWithPassword', 'auth'],
  'POST /api/collections/:/auth-with-oauth2': ['authWithOAuth2', 'auth'],
  'POST /api/collections/:/request-otp': ['requestOTP'],
  'POST /api/collections/:/auth-with-otp': ['authWithOTP', 'auth'],
  'POST /api/collections/:/request-password-reset': ['requestPasswordReset'],
  'POST /api/collections/:/confirm-password-reset': ['confirmPasswordReset'],
  'POST /api/collections/:/request-verification': ['requestVerification'],
  'POST /api/collections/:/confirm-verification': ['confirmVerification'],
  'POST /api/collections/:/request-email-change': ['requestEmailChange'],
  'POST /api/collections/:/confirm-email-change': ['confirmEmailChange'],
  'GET /api/files/:/:/:': ['file'],
}

/** `METHOD /pattern` with parameter names blanked; HEAD is its GET route. */
export function routeKey(method: string, pattern: string): string {
  return `${method === 'HEAD' ? 'GET' : method} ${pattern.replace(/\/:[^/]+/g, '/:')}`
}

/** The tags of a route (undefined: not a collection route, only path labels apply). */
export function routeTags(method: string, pattern: string | undefined): readonly string[] | undefined {
  return pattern === undefined ? undefined : ROUTE_TAGS[routeKey(method, pattern)]
}

/** The path as Go's `URL.Path` has it: no query, percent-decoded (so `%75sers` is `users`). */
function requestPath(url: string): string {
  const q = url.indexOf('?')
  const path = q < 0 ? url : url.slice(0, q)
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

/**
 * PocketBase's `FindRateLimitRule`: for each label in order, an exact label wins, else a path prefix
 * rule (label ending in `/`). Where PocketBase takes the first prefix rule in settings order, this
 * takes the longest, so `/api/collections/` beats `/api/` whatever their order (§1.6).
 */
export function findRateLimitRule(
  rules: readonly RateLimitRule[],
  labels: readonly string[],
  authenticated: boolean,
): RateLimitRule | undefined {
  const audience = authenticated ? '@auth' : '@guest'
  for (const label of labels) {
    let prefix: RateLimitRule | undefined
    for (const r of rules) {
      if (r.audience !== '' && r.audience !== audience) continue
      if (r.label === label) return r
      if (
        r.label.endsWith('/') &&
        `${label}/`.startsWith(r.label) &&
        (!prefix || r.label.length > prefix.label.length)
      )
        prefix = r
    }
    if (prefix) return prefix
  }
  return undefined
}

/** What one check needs to know of the request. */
interface Subject {
  readonly actor: Actor | undefined
  readonly ip: string
  readonly method: string
  readonly path: string
}

const tooManyRequests = () => new GalleyError('RATE_LIMITED')

/**
 * PocketBase's rate limiter (§1.6), applied from the settings in force: every request counts
 * against the rule its path labels find (bucket = rule), and a collection route also against the
 * rule its tags find (bucket = collection + route + tags), per client IP (IPv6 by /64, as the
 * brute-force guard counts; requests without an address share one counter), in fixed windows.
 * Superusers and `excludedIPs` are never limited. A change to `rateLimits` resets the counters, as
 * PocketBase's settings reload does.
 */
export class RateLimiter {
  readonly #settings: SettingsService
  readonly #collections: CollectionService
  readonly #counters: FixedWindowCounter
  #seen: Settings['rateLimits'] | undefined
  #seenJson = ''
  #excluded = new Set<string>()

  constructor(settings: SettingsService, collections: CollectionService, maxKeys = MAX_RATE_LIMIT_KEYS) {
    this.#settings = settings
    this.#collections = collections
    this.#counters = new FixedWindowCounter(maxKeys)
  }

  /** The limits in force, or undefined when disabled; counters restart when they change. */
  #config(): Settings['rateLimits'] | undefined {
    const rl = this.#settings.get().rateLimits
    if (rl !== this.#seen) {
      this.#seen = rl
      const json = JSON.stringify(rl)
      if (json !== this.#seenJson) {
        this.#seenJson = json
        this.#counters.clear()
        this.#excluded = new Set(rl.excludedIPs.map((ip) => normalizeIp(ip) ?? ip))
      }
    }
    return rl.enabled ? rl : undefined
  }

  #exempt(s: Subject): boolean {
    return isSuperuser(s.actor) || (s.ip !== '' && this.#excluded.has(s.ip))
  }

  #take(rules: readonly RateLimitRule[], labels: string[], s: Subject, bucket?: string): boolean {
    const rule = findRateLimitRule(rules, labels, s.actor !== undefined)
    if (!rule) return true
    // IPv6 by /64 (a host commonly holds one); no address at all (a Unix socket) is one client too.
    const key = `${bucket ?? rule.label}\u0000${rule.audience}\u0000${clientKey(s.ip) || 'unknown'}`
    return this.#counters.take(key, { max: rule.maxRequests, windowMs: rule.duration * 1000 })
  }

  /** The collection route check: labels `name:tag`, `*:tag`, then the path labels. */
  #takeCollection(
    rules: readonly RateLimitRule[],
    s: Subject,
    idOrName: string,
    route: string,
    tags: readonly string[],
  ): boolean {
    const c = this.#collections.find(idOrName)
    // An unknown collection is the route's 404; nothing to count for it.
    if (!c) return true
    const labels = [
      ...tags.map((t) => `${c.name}:${t}`),
      ...tags.map((t) => `*:${t}`),
      `${s.method} ${s.path}`,
      s.path,
    ]
    return this.#take(rules, labels, s, `${c.id}\u0000${route}\u0000${tags.join(',')}`)
  }

  /** Checks one HTTP request (after its actor is known): undefined, or the 429 to answer. */
  check(req: FastifyRequest): GalleyError | undefined {
    // CORS preflights are answered before any limit (§1.5).
    if (req.method === 'OPTIONS') return undefined
    const rl = this.#config()
    if (!rl) return undefined
    const s: Subject = { actor: req.actor, ip: req.clientIp, method: req.method, path: requestPath(req.url) }
    if (this.#exempt(s)) return undefined
    if (!this.#take(rl.rules, [`${s.method} ${s.path}`, s.path], s)) return tooManyRequests()
    const pattern = req.routeOptions.url
    const tags = req.routeOptions.config?.rateLimitTags ?? routeTags(req.method, pattern)
    if (!tags || pattern === undefined) return undefined
    const param = /^\/api\/\w+\/:(\w+)/.exec(pattern)?.[1]
    const idOrName = param ? (req.params as Record<string, unknown> | undefined)?.[param] : undefined
    if (typeof idOrName !== 'string') return undefined
    return this.#takeCollection(rl.rules, s, idOrName, routeKey(req.method, pattern), tags)
      ? undefined
      : tooManyRequests()
  }

  /**
   * Counts one request of a batch as the collection route it stands for, in that route's counter
   * (a batch of 100 creates is 100 `create`s), with the batch's actor and client. An upsert counts
   * as a create, or as an update when only an `update` tag rule names it: which it becomes is known
   * only once it runs. An unknown action counts nothing: the batch refuses it.
   */
  checkBatchItem(parent: FastifyRequest, item: BatchRequestInput): GalleyError | undefined {
    const rl = this.#config()
    if (!rl) return undefined
    const action = matchBatchAction(item.method, item.url)
    if (!action) return undefined
    const method = item.method.toUpperCase()
    const s: Subject = { actor: parent.actor, ip: parent.clientIp, method, path: requestPath(item.url) }
    if (this.#exempt(s)) return undefined
    let kind: string = action.kind
    if (kind === 'upsert') {
      const name = this.#collections.find(action.collection)?.name ?? action.collection
      const tagged = (tag: string) =>
        findRateLimitRule(rl.rules, [`${name}:${tag}`, `*:${tag}`], s.actor !== undefined) !== undefined
      kind = !tagged('create') && tagged('update') ? 'update' : 'create'
    }
    const route =
      kind === 'create'
        ? 'POST /api/collections/:/records'
        : `${method === 'PUT' ? 'PATCH' : method} /api/collections/:/records/:`
    return this.#takeCollection(rl.rules, s, action.collection, route, [kind]) ? undefined : tooManyRequests()
  }
}
