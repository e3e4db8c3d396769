/** A window's allowance: at most `max` hits per `windowMs`. */
export interface WindowLimit {
  readonly max: number
  readonly windowMs: number
}

interface Entry {
  used: number
  /** When the last allowed hit was taken; the window restarts `windowMs` after it. */
  last: number
}

/**
 * Fixed-window hit counters by key, as PocketBase's rate limiter counts them: a key's allowance
 * refills `windowMs` after its last allowed hit, and refused hits take nothing (so they never
 * extend a lockout). At most `maxKeys` keys are held; a new key beyond that evicts the least
 * recently hit one, so memory stays bounded whatever keys clients make up. The limit is passed on
 * each call, so a changed setting applies to existing counters at once.
 */
export class FixedWindowCounter {
  readonly #entries = new Map<string, Entry>()
  readonly #maxKeys: number
  readonly #now: () => number

  constructor(maxKeys: number, now: () => number = () => Date.now()) {
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a positive integer')
    this.#maxKeys = maxKeys
    this.#now = now
  }

  get size(): number {
    return this.#entries.size
  }

  #current(key: string, limit: WindowLimit, now: number): Entry | undefined {
    const e = this.#entries.get(key)
    if (e && now - e.last >= limit.windowMs) e.used = 0
    return e
  }

  /** Whether a hit on `key` would be allowed now; changes nothing. */
  allows(key: string, limit: WindowLimit): boolean {
    const e = this.#current(key, limit, this.#now())
    return (e?.used ?? 0) < limit.max
  }

  /** Takes one hit from `key`'s window: true if allowed, false (nothing taken) when exhausted. */
  take(key: string, limit: WindowLimit): boolean {
    const now = this.#now()
    const e = this.#current(key, limit, now)
    if (e) {
      if (e.used >= limit.max) return false
      e.used++
      e.last = now
      // Most recently hit last: eviction takes the first key of the map.
      this.#entries.delete(key)
      this.#entries.set(key, e)
      return true
    }
    if (limit.max < 1) return false
    if (this.#entries.size >= this.#maxKeys) {
      const oldest = this.#entries.keys().next()
      if (!oldest.done) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, { used: 1, last: now })
    return true
  }

  /** Gives back one hit taken from `key` (an attempt that turned out legitimate). */
  refund(key: string): void {
    const e = this.#entries.get(key)
    if (e && e.used > 0) e.used--
  }

  delete(key: string): void {
    this.#entries.delete(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}
