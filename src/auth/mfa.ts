import { badRequest, MfaRequiredError, newRecordId, nowDateTime } from '../lib/index.js'
import type { RecordRow } from '../records/index.js'
import { SUPERUSERS_COLLECTION_NAME, type AuthCollection } from '../schema/index.js'
import type { AuthDeps, SignInMethod } from './auth-service.js'
import { hasExpired } from './expiry.js'

export const MFAS = '_mfas'

/** Longest `mfaId` looked up; longer ones are unknown sessions. */
const MAX_MFA_ID_LENGTH = 255

/** MFA is on for the collection; `_superusers` turns it on by itself when its OTP is enabled (§8.6). */
export function mfaEnabled(c: AuthCollection): boolean {
  return c.mfa.enabled || (c.name === SUPERUSERS_COLLECTION_NAME && c.otp.enabled)
}

/**
 * Whether a sign-in of the record `matches` evaluates for needs a second factor (§8.6): MFA is on
 * for the collection and its rule (empty = everyone) selects the record. The one place this is
 * decided: `requireMfa` and the OTP flow's password replacement both ask it.
 */
export async function mfaRequired(
  c: AuthCollection,
  matches: (rule: string) => Promise<boolean>,
): Promise<boolean> {
  return mfaEnabled(c) && (c.mfa.rule === '' || (await matches(c.mfa.rule)))
}

/** What the MFA step needs besides the record: the method used and the first step's id, if any. */
export interface MfaStep {
  readonly method: SignInMethod
  readonly mfaId: string | undefined
  /** Whether the record satisfies `rule`, evaluated like the authRule with `@request.context` = method. */
  readonly matches: (rule: string) => Promise<boolean>
}

/**
 * The MFA step of every sign-in (§8.6). Returns when no second factor is needed or when `mfaId`
 * names a valid first step of this record made with another method (the step is then used up);
 * otherwise throws: a new first step as MfaRequiredError (401 `{"mfaId"}`), or PocketBase's 400s.
 */
export async function requireMfa(deps: AuthDeps, c: AuthCollection, row: RecordRow, step: MfaStep) {
  if (!(await mfaRequired(c, step.matches))) return
  const db = deps.database.db
  const recordId = String(row.id)
  if (!step.mfaId) {
    const id = newRecordId()
    const now = nowDateTime()
    await db
      .insertInto(MFAS)
      .values({
        id,
        collectionRef: c.id,
        recordRef: recordId,
        method: step.method,
        created: now,
        updated: now,
      })
      .execute()
    throw new MfaRequiredError(id)
  }
  const mfaId = step.mfaId
  const mfa =
    mfaId.length > MAX_MFA_ID_LENGTH || mfaId.includes('\0')
      ? undefined
      : await db
          .selectFrom(MFAS)
          .select(['id', 'collectionRef', 'recordRef', 'method', 'created'])
          .where('id', '=', mfaId)
          .executeTakeFirst()
  if (!mfa) throw badRequest('Invalid or expired MFA session.')
  if (hasExpired(String(mfa.created), c.mfa.duration)) {
    await db.deleteFrom(MFAS).where('id', '=', mfaId).execute()
    throw badRequest('Invalid or expired MFA session.')
  }
  if (mfa.collectionRef !== c.id || mfa.recordRef !== recordId) throw badRequest('Invalid MFA session.')
  if (mfa.method === step.method) throw badRequest('A different authentication method is required.')
  // Single use: of two requests presenting the same step, only the one that deletes it goes on.
  const deleted = await db.deleteFrom(MFAS).where('id', '=', mfaId).executeTakeFirst()
  if (Number(deleted.numDeletedRows) !== 1) throw badRequest('Invalid or expired MFA session.')
}
