import type { Database, Migration } from '../db/index.js'
import { formatDateTime, newRecordId } from '../lib/index.js'
import { expiredBefore } from './expiry.js'

/**
 * OTP guesses per record within OTP_ATTEMPT_WINDOW_SECONDS; the next one gets a 429 and the OTP is
 * deleted (PocketBase: 5 per 180 s).
 */
export const MAX_OTP_ATTEMPTS = 5
export const OTP_ATTEMPT_WINDOW_SECONDS = 180

/** An internal table (not a collection): one row per OTP guess, shared by every instance. */
export const OTP_ATTEMPTS_TABLE = '_otpAttempts'

export const otpAttemptsMigration: Migration = {
  name: '0003_otp_attempts',
  async up(trx) {
    await trx.schema
      .createTable(OTP_ATTEMPTS_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey().notNull())
      .addColumn('collectionRef', 'text', (c) => c.notNull())
      .addColumn('recordRef', 'text', (c) => c.notNull())
      .addColumn('created', 'text', (c) => c.notNull())
      .execute()
    await trx.schema
      .createIndex('idx__otpAttempts_record')
      .on(OTP_ATTEMPTS_TABLE)
      .columns(['collectionRef', 'recordRef', 'created'])
      .execute()
    await trx.schema
      .createIndex('idx__otpAttempts_created')
      .on(OTP_ATTEMPTS_TABLE)
      .column('created')
      .execute()
  },
}

/**
 * The brute-force guard of auth-with-otp, kept in the database so it holds across instances:
 * records one attempt and returns how many the record made within the window, this one included.
 * The attempt is written before the code is compared and the count read after that write
 * committed, so concurrent guesses (on any instance) see each other and at most MAX_OTP_ATTEMPTS
 * get compared.
 */
export async function recordOtpAttempt(
  database: Database,
  collectionId: string,
  recordId: string,
  now: Date = new Date(),
): Promise<number> {
  const db = database.db
  await db
    .insertInto(OTP_ATTEMPTS_TABLE)
    .values({
      id: newRecordId(),
      collectionRef: collectionId,
      recordRef: recordId,
      created: formatDateTime(now),
    })
    .execute()
  const row = await db
    .selectFrom(OTP_ATTEMPTS_TABLE)
    .select((eb) => eb.fn.countAll().as('n'))
    .where('collectionRef', '=', collectionId)
    .where('recordRef', '=', recordId)
    .where('created', '>', expiredBefore(OTP_ATTEMPT_WINDOW_SECONDS, now))
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}

/** A right code: the record's failed guesses no longer count against it. */
export async function clearOtpAttempts(database: Database, collectionId: string, recordId: string) {
  await database.db
    .deleteFrom(OTP_ATTEMPTS_TABLE)
    .where('collectionRef', '=', collectionId)
    .where('recordRef', '=', recordId)
    .execute()
}
