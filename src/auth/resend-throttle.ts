/** PocketBase's resend interval for verification and password-reset mails (§8.10). */
export const RESEND_INTERVAL_MS = 2 * 60 * 1000
/** Most keys remembered at once; past it the oldest are forgotten (a resend then comes early). */
export const MAX_THROTTLE_KEYS = 100_000

/**
 * "Sent to this record less than two minutes ago", in memory as PocketBase keeps it (its app
 * store). Every entry has the same lifetime and a key is re-inserted when renewed, so the map is in
 * expiry order and pruning only looks at its front. Per instance: behind a load balancer each
 * instance throttles on its own, so a record can get one mail per instance per interval.
 */
export class ResendThrottle {
  readonly #sentAt = new Map<string, number>()
  readonly #intervalMs: number
  readonly #maxKeys: number

  constructor(intervalMs = RESEND_INTERVAL_MS, maxKeys = MAX_THROTTLE_KEYS) {
    this.#intervalMs = intervalMs
    this.#maxKeys = maxKeys
  }

  /** True (and remembered) when `key` may be sent now; false within the interval of the last send. */
  take(key: string, now = Date.now()): boolean {
    this.#prune(now)
    const last = this.#sentAt.get(key)
    if (last !== undefined && now - last < this.#intervalMs) return false
    this.#sentAt.delete(key)
    // Full: the oldest key goes (it may then send before its interval ends).
    const oldest = this.#sentAt.size >= this.#maxKeys ? this.#sentAt.keys().next() : undefined
    if (oldest && !oldest.done) this.#sentAt.delete(oldest.value)
    this.#sentAt.set(key, now)
    return true
  }

  /** Forgets `key` (a confirmed reset may ask for the next one at once). */
  forget(key: string): void {
    this.#sentAt.delete(key)
  }

  get size(): number {
    return this.#sentAt.size
  }

  #prune(now: number): void {
    for (const [key, at] of this.#sentAt) {
      if (now - at < this.#intervalMs) break
      this.#sentAt.delete(key)
    }
  }
}
