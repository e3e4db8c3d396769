import { setImmediate } from 'node:timers/promises'
import type { Executor } from '../db/index.js'
import {
  fieldError,
  forbidden,
  GalleyError,
  isJsonObject,
  newRecordId,
  nowDateTime,
  randomString,
  ValidationErrors,
} from '../lib/index.js'
import { recordToJSON, type RecordRow } from '../records/index.js'
import { columnKind, FIELD_TYPES, makeField, type AuthCollection } from '../schema/index.js'
import type { AuthOptions, AuthResponse, AuthService } from './auth-service.js'
import { BackgroundTasks } from './background-tasks.js'
import { expiredBefore, hasExpired } from './expiry.js'
import { MFAS } from './mfa.js'
import { clearOtpAttempts, MAX_OTP_ATTEMPTS, recordOtpAttempt } from './otp-attempts.js'
import { hashOtpCode, newOtpCode, otpCodeMatches } from './otp-code.js'
import { hashPassword } from './password.js'

export const OTPS = '_otps'

/**
 * Non-expired OTPs one record may hold (PocketBase: 10). Beyond it request-otp answers as for an
 * unknown address: a fresh id that matches no OTP, and no mail. PocketBase answers the latest OTP's
 * id instead, which tells a known address (the same id every time) from an unknown one.
 */
export const MAX_LIVE_OTPS = 10
/** Longest `email`, `otpId` and `password` accepted by the OTP endpoints (PocketBase: 255). */
export const MAX_OTP_INPUT_LENGTH = 255
/** OTP issues (insert + mail) running after their response; beyond this a request waits for its own. */
export const MAX_PENDING_OTP_ISSUES = 256

const EMAIL_FIELD = makeField('email', 'email', { required: true })
const DISABLED = 'The collection is not configured to allow OTP authentication.'
const invalidOtp = () => new GalleyError('OTP_INVALID')

/**
 * Email one-time passwords (§8.7). request-otp answers the same way, in about the same time, for
 * known and unknown addresses: only a lookup of the address and of its live OTPs run before the
 * response; the code's creation, its insert and the mail run after it (the code can only be learnt
 * from the mail, which is sent once the insert committed).
 */
export class OtpFlow {
  readonly #auth: AuthService
  readonly #issues: BackgroundTasks

  /** Reads `auth.deps` only when used, so AuthService can create it as a field. */
  constructor(auth: AuthService) {
    this.#auth = auth
    this.#issues = new BackgroundTasks(MAX_PENDING_OTP_ISSUES, (err) =>
      auth.deps.logger.error({ err }, 'OTP not issued'),
    )
  }

  async request(c: AuthCollection, body: unknown): Promise<{ otpId: string }> {
    if (!c.otp.enabled) throw forbidden(DISABLED)
    const email = isJsonObject(body) ? body.email : undefined
    const err =
      typeof email === 'string' && email.length > MAX_OTP_INPUT_LENGTH
        ? fieldError(
            'validation_length_out_of_range',
            `The length must be between 1 and ${MAX_OTP_INPUT_LENGTH}.`,
          )
        : FIELD_TYPES.get('email')?.validateValue(EMAIL_FIELD, email ?? '', { collection: c, isNew: true })
    if (err)
      new ValidationErrors()
        .add(['email'], err)
        .throwIfAny('An error occurred while validating the submitted data.')

    const row = await this.#auth.findByIdentity(c, 'email', email as string)
    // The same query for an unknown address (no record has an empty id), so both cost the same.
    const live = await this.#liveOtps(c, row ? String(row.id) : '')
    const otpId = newRecordId()
    if (row && live.length >= MAX_LIVE_OTPS)
      this.#auth.deps.logger.debug(
        { collection: c.name, record: row.id },
        'too many OTP requests: no new OTP, answering an id that matches none',
      )
    else if (row) {
      const task = async () => {
        // Two turns of the event loop before any of it: the first lets the reply be written, the
        // second lets pending reads (the next requests; a client in this process, as in the tests)
        // go first. SQLite's driver is synchronous: an insert started earlier runs, commit included,
        // ahead of the reply and makes known addresses measurably slower (test/enumeration).
        await setImmediate()
        await setImmediate()
        await this.#issue(c, row, otpId)
      }
      if (!this.#issues.start(task)) await task()
    }
    return { otpId }
  }

  async authenticate(c: AuthCollection, body: unknown, opts: AuthOptions = {}): Promise<AuthResponse> {
    if (!c.otp.enabled) throw forbidden(DISABLED)
    const input = isJsonObject(body) ? body : {}
    const errors = new ValidationErrors()
    for (const key of ['otpId', 'password'] as const) {
      const v = input[key]
      if (typeof v !== 'string' || v === '')
        errors.add([key], fieldError('validation_required', 'Cannot be blank.'))
      else if (v.length > MAX_OTP_INPUT_LENGTH)
        errors.add(
          [key],
          fieldError(
            'validation_length_out_of_range',
            `The length must be between 1 and ${MAX_OTP_INPUT_LENGTH}.`,
          ),
        )
    }
    errors.throwIfAny('An error occurred while validating the submitted data.')
    const otpId = input.otpId as string
    const code = input.password as string

    const { database } = this.#auth.deps
    const db = database.db
    const otp = otpId.includes('\0')
      ? undefined
      : await db
          .selectFrom(OTPS)
          .select(['id', 'collectionRef', 'recordRef', 'password', 'sentTo', 'created'])
          .where('id', '=', otpId)
          .executeTakeFirst()
    if (!otp || otp.collectionRef !== c.id || hasExpired(String(otp.created), c.otp.duration))
      throw invalidOtp()
    let row = await this.#auth.findById(c, String(otp.recordRef))
    if (!row) throw invalidOtp()

    const recordId = String(row.id)
    if ((await recordOtpAttempt(database, c.id, recordId)) > MAX_OTP_ATTEMPTS) {
      await db.deleteFrom(OTPS).where('id', '=', otp.id).execute()
      throw new GalleyError('OTP_TOO_MANY_ATTEMPTS')
    }
    if (!otpCodeMatches(c, otp.id, code, String(otp.password ?? ''))) throw invalidOtp()
    // Single use: of two requests with the right code, only the one that deletes the OTP goes on.
    const deleted = await db.deleteFrom(OTPS).where('id', '=', otp.id).executeTakeFirst()
    if (Number(deleted.numDeletedRows) !== 1) throw invalidOtp()
    await clearOtpAttempts(database, c.id, recordId)

    const sentTo = String(otp.sentTo ?? '')
    if (sentTo !== '' && sentTo === row.email && !this.#isVerified(c, row))
      row = await this.#markVerified(c, row)
    return this.#auth.signIn(c, row, 'otp', opts)
  }

  /** Resolves once every OTP issue started so far has finished (shutdown and tests). */
  idle(): Promise<void> {
    return this.#issues.idle()
  }

  /** The record's non-expired OTPs, newest first (at most MAX_LIVE_OTPS). */
  #liveOtps(c: AuthCollection, recordId: string, ex: Executor = this.#auth.deps.database.db) {
    return ex
      .selectFrom(OTPS)
      .select(['id'])
      .where('collectionRef', '=', c.id)
      .where('recordRef', '=', recordId)
      .where('created', '>', expiredBefore(c.otp.duration))
      .orderBy('created', 'desc')
      .orderBy('id', 'desc')
      .limit(MAX_LIVE_OTPS)
      .execute() as Promise<{ id: string }[]>
  }

  /** Creates the OTP (under the record's lock, so concurrent requests keep the bound) and mails it. */
  async #issue(c: AuthCollection, row: RecordRow, otpId: string): Promise<void> {
    const { database, mail, logger } = this.#auth.deps
    const recordId = String(row.id)
    const email = String(row.email ?? '')
    try {
      const code = newOtpCode(c)
      const created = await database.transaction(async (trx) => {
        await database.dialect.lockKey(trx, `otp:${c.id}:${recordId}`)
        if ((await this.#liveOtps(c, recordId, trx)).length >= MAX_LIVE_OTPS) return false
        const now = nowDateTime()
        await trx
          .insertInto(OTPS)
          .values({
            id: otpId,
            collectionRef: c.id,
            recordRef: recordId,
            password: hashOtpCode(c, otpId, code),
            sentTo: email,
            created: now,
            updated: now,
          })
          .execute()
        return true
      })
      if (!created) {
        logger.debug({ collection: c.name, record: recordId }, 'too many OTP requests: no new OTP')
        return
      }
      const record = recordToJSON(database.dialect, c, row, { showEmail: true })
      mail.sendInBackground('otp', mail.render(c.otp.emailTemplate, email, { otp: code, otpId, record }))
    } catch (err) {
      logger.error({ collection: c.name, record: recordId, err }, 'OTP not issued')
    }
  }

  #isVerified(c: AuthCollection, row: RecordRow): boolean {
    const f = c.fields.find((x) => x.name === 'verified')
    return !f || this.#auth.deps.database.dialect.decode(columnKind(f), row.verified) === true
  }

  /**
   * The OTP reached the record's current address: it is verified now. Unless this sign-in will
   * need a second factor (MFA on and its rule selecting the record, decided on the verified record
   * as signIn will see it), its password is also replaced by a random one: PocketBase's guard
   * against an account pre-registered by someone else with the victim's address. The new password
   * rotates tokenKey, revoking earlier tokens, and the record's pending OTPs and MFA steps go too.
   */
  async #markVerified(c: AuthCollection, row: RecordRow): Promise<RecordRow> {
    const { database } = this.#auth.deps
    const recordId = String(row.id)
    const tokenKey = c.fields.find((f) => f.name === 'tokenKey')
    // Hashing is slow: done before the transaction, so SQLite's write lock is not held meanwhile.
    const randomHash = tokenKey ? await hashPassword(randomString(30)) : ''
    // the write is announced (realtime) once the transaction has committed
    return this.#auth.deps.records.transaction(async (trx, changes) => {
      let updated = await this.#update(c, recordId, { verified: database.dialect.encode('bool', true) }, trx)
      if (tokenKey && !(await this.#auth.needsSecondFactor(c, updated ?? row, 'otp', trx))) {
        const key = FIELD_TYPES.get(tokenKey.type)?.autogenerate?.(tokenKey) ?? randomString(50)
        updated = await this.#update(c, recordId, { password: randomHash, tokenKey: key }, trx)
        await discardPendingFactors(trx, c, recordId)
      }
      if (updated) changes.push({ collection: c, action: 'update', row: updated })
      return updated ?? row
    })
  }

  /** Sets `set` (and the autodate fields updated on change) on the record; the row as stored. */
  async #update(c: AuthCollection, recordId: string, set: Record<string, unknown>, ex: Executor) {
    const now = nowDateTime()
    const values = { ...set }
    for (const f of c.fields) if (f.type === 'autodate' && f.onUpdate) values[f.name] = now
    const updated = await ex
      .updateTable(c.name)
      .set(values)
      .where('id', '=', recordId)
      .returning(c.fields.map((f) => f.name))
      .executeTakeFirst()
    return updated as RecordRow | undefined
  }
}

/**
 * Drops the record's pending second factors, its OTPs and its MFA first steps: called in the
 * transaction wherever auth replaces a record's password or email, so a code or a first step
 * obtained before the change cannot complete a sign-in after it.
 */
export async function discardPendingFactors(ex: Executor, c: AuthCollection, recordId: string) {
  for (const table of [OTPS, MFAS])
    await ex.deleteFrom(table).where('collectionRef', '=', c.id).where('recordRef', '=', recordId).execute()
}
