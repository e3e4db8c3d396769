import type { Executor } from '../db/index.js'
import { PeriodicTask } from '../lib/index.js'
import { isAuthCollection } from '../schema/index.js'
import type { AuthDeps } from './auth-service.js'
import { expiredBefore } from './expiry.js'
import { MFAS } from './mfa.js'
import { OTP_ATTEMPT_WINDOW_SECONDS, OTP_ATTEMPTS_TABLE } from './otp-attempts.js'
import { OTPS } from './otp.js'

/** How often expired `_otps`, `_mfas` and OTP attempt rows are deleted (PocketBase: hourly). */
export const SWEEP_INTERVAL_MS = 60 * 60 * 1000
/** Rows one DELETE removes, and DELETEs per kind of row in one sweep: a sweep's work is bounded. */
export const SWEEP_BATCH = 500
export const SWEEP_MAX_BATCHES = 200
/** The longest OTP or MFA lifetime a collection can set: older rows are expired whatever their collection. */
const MAX_LIFETIME_SECONDS = 86_400

export interface SweepResult {
  otps: number
  mfas: number
  attempts: number
}

type SweepDeps = Pick<AuthDeps, 'database' | 'collections' | 'logger'>
type Condition = { column: string; before: string; collectionRef?: string }

/**
 * Deletes what the OTP and MFA flows leave behind once it expired, each collection by its own
 * durations, at start and then every SWEEP_INTERVAL_MS. Every instance sweeps (the deletes are
 * idempotent). A failed sweep is logged and the next one tries again; it never stops the process.
 */
export class AuthSweeper {
  readonly #owner: { readonly deps: SweepDeps }
  readonly #task = new PeriodicTask(async () => {
    const { logger } = this.#owner.deps
    try {
      const r = await this.sweep()
      if (r.otps + r.mfas + r.attempts > 0) logger.debug(r, 'expired auth rows deleted')
    } catch (err) {
      logger.error({ err }, 'sweep of expired OTPs and MFA sessions failed')
    }
  }, SWEEP_INTERVAL_MS)

  /** Reads `owner.deps` only when used, so AuthService can create it as a field. */
  constructor(owner: { readonly deps: SweepDeps }) {
    this.#owner = owner
  }

  #stopped = false

  start(): void {
    this.#stopped = false
    this.#task.start()
  }

  /** Stops the timer and waits for a sweep in progress (it stops between two DELETEs). */
  stop(): Promise<void> {
    this.#stopped = true
    return this.#task.stop()
  }

  /** One sweep: what expired by `now`, at most SWEEP_BATCH × SWEEP_MAX_BATCHES rows of each kind. */
  async sweep(now: Date = new Date()): Promise<SweepResult> {
    const result: SweepResult = { otps: 0, mfas: 0, attempts: 0 }
    const auth = this.#owner.deps.collections.all().filter(isAuthCollection)
    const otps: Condition[] = [{ column: 'created', before: expiredBefore(MAX_LIFETIME_SECONDS, now) }]
    const mfas: Condition[] = [...otps]
    for (const c of auth) {
      otps.push({ column: 'created', before: expiredBefore(c.otp.duration, now), collectionRef: c.id })
      mfas.push({ column: 'created', before: expiredBefore(c.mfa.duration, now), collectionRef: c.id })
    }
    const attempts = { column: 'created', before: expiredBefore(OTP_ATTEMPT_WINDOW_SECONDS, now) }
    result.otps = await this.#deleteAll(OTPS, otps)
    result.mfas = await this.#deleteAll(MFAS, mfas)
    result.attempts = await this.#deleteAll(OTP_ATTEMPTS_TABLE, [attempts])
    return result
  }

  /** Deletes the rows matching any condition, in batches, up to the sweep's bound for this table. */
  async #deleteAll(table: string, conditions: Condition[]): Promise<number> {
    let total = 0
    let batches = 0
    for (const cond of conditions) {
      for (;;) {
        if (this.#stopped || batches >= SWEEP_MAX_BATCHES) return total
        batches++
        const n = await deleteBatch(this.#owner.deps.database.db, table, cond)
        total += n
        if (n < SWEEP_BATCH) break
      }
    }
    return total
  }
}

async function deleteBatch(db: Executor, table: string, cond: Condition): Promise<number> {
  let ids = db.selectFrom(table).select('id').where(cond.column, '<=', cond.before)
  if (cond.collectionRef !== undefined) ids = ids.where('collectionRef', '=', cond.collectionRef)
  const res = await db.deleteFrom(table).where('id', 'in', ids.limit(SWEEP_BATCH)).executeTakeFirst()
  return Number(res.numDeletedRows)
}
