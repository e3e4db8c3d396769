import { createHash } from 'node:crypto'
import { newRecordId, nowDateTime } from '../lib/index.js'
import { recordToJSON, type RecordRow } from '../records/index.js'
import type { AuthCollection } from '../schema/index.js'
import type { AuthDeps, ClientInfo } from './auth-service.js'

/** The `_authOrigins` rows kept per record: the most recently used ones (PocketBase keeps 5). */
export const MAX_AUTH_ORIGINS = 5
/** Longest user agent quoted in an alert mail; the rest is cut (the fingerprint uses it whole). */
export const MAX_ALERT_USER_AGENT = 300

const ORIGINS = '_authOrigins'

/**
 * PocketBase's fingerprint of a client: MD5 (hex) of its IP followed by its user agent, so origins
 * imported from a PocketBase database keep matching. A lookup key, not a secret.
 */
export function authOriginFingerprint(client: ClientInfo | undefined): string {
  return createHash('md5')
    .update(`${client?.ip ?? ''}${client?.userAgent ?? ''}`)
    .digest('hex')
}

/** `{ALERT_INFO}`: when, from which address and which user agent (the template escapes it). */
export function alertInfo(client: ClientInfo | undefined, at: string): string {
  // eslint-disable-next-line no-control-regex
  const ua = (client?.userAgent ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim()
  const agent = ua === '' ? 'unknown user agent' : ua.slice(0, MAX_ALERT_USER_AGENT)
  return `${at.replace(/\.\d+Z$/, ' UTC')}, IP ${client?.ip || 'unknown'}, ${agent}`
}

/**
 * Login alerts (§8.11), after a successful sign-in: records the client's fingerprint in
 * `_authOrigins` and, when the record had signed in before from elsewhere, mails
 * `authAlert.emailTemplate` in the background. Only the row that inserted a fingerprint mails, so
 * concurrent sign-ins from one new client alert once. Only the last MAX_AUTH_ORIGINS origins are
 * kept. Never throws: a failure here is logged and the sign-in goes on.
 */
export async function recordAuthOrigin(
  deps: AuthDeps,
  c: AuthCollection,
  row: RecordRow,
  client: ClientInfo | undefined,
): Promise<void> {
  if (!c.authAlert?.enabled) return
  const recordId = String(row.id)
  try {
    const db = deps.database.db
    const fingerprint = authOriginFingerprint(client)
    const mine = () =>
      db.selectFrom(ORIGINS).where('collectionRef', '=', c.id).where('recordRef', '=', recordId)
    const before = await mine().select('id').limit(1).executeTakeFirst()
    const now = nowDateTime()
    const inserted = await db
      .insertInto(ORIGINS)
      .values({
        id: newRecordId(),
        collectionRef: c.id,
        recordRef: recordId,
        fingerprint,
        created: now,
        updated: now,
      })
      .onConflict((oc) => oc.columns(['collectionRef', 'recordRef', 'fingerprint']).doNothing())
      .returning('id')
      .executeTakeFirst()
    if (!inserted)
      await db
        .updateTable(ORIGINS)
        .set({ updated: now })
        .where('collectionRef', '=', c.id)
        .where('recordRef', '=', recordId)
        .where('fingerprint', '=', fingerprint)
        .execute()
    await db
      .deleteFrom(ORIGINS)
      .where('collectionRef', '=', c.id)
      .where('recordRef', '=', recordId)
      .where(
        'id',
        'not in',
        mine().select('id').orderBy('updated', 'desc').orderBy('id', 'desc').limit(MAX_AUTH_ORIGINS),
      )
      .execute()

    const email = typeof row.email === 'string' ? row.email : ''
    if (!inserted || !before || email === '') return
    const record = recordToJSON(deps.database.dialect, c, row, { showEmail: true })
    const message = deps.mail.render(c.authAlert.emailTemplate, email, {
      alertInfo: alertInfo(client, now),
      record,
    })
    deps.mail.sendInBackground('login-alert', message)
  } catch (err) {
    deps.logger.error(
      { err: (err as Error).message, collection: c.name, record: recordId },
      'login alert: auth origin not recorded',
    )
  }
}
