import { ClientResponseError } from 'pocketbase'
import type PocketBase from 'pocketbase'
import { formatDateTime } from '../../src/lib/index.js'
import { createStore, startGalley, type DbKind, type RunningGalley, type TestStore } from './galley.js'
import { startSmtpSink, type SmtpSink } from './smtp-sink.js'

/** The OTP mail of the OTP/MFA tests: its id in the subject, the code in the body. */
export const OTP_TEMPLATE = {
  subject: 'OTP {OTP_ID}',
  body: '<p>code=<b>{OTP}</b> id={OTP_ID} for {RECORD:email}</p>',
}

/** A Galley with one superuser client and its mail going to a real SMTP sink. */
export interface OtpGalley {
  readonly store: TestStore
  readonly running: RunningGalley
  readonly sink: SmtpSink
  readonly su: PocketBase
  close(): Promise<void>
}

export async function startOtpGalley(kind: DbKind): Promise<OtpGalley> {
  const store = await createStore(kind)
  const sink = await startSmtpSink()
  const running = await startGalley(store)
  const su = await running.asSuperuser()
  await su.settings.update({ smtp: sink.smtpSettings() })
  return {
    store,
    running,
    sink,
    su,
    async close() {
      await running.close()
      await sink.close()
      await store.cleanup()
    },
  }
}

export interface Failure {
  readonly status: number
  readonly message: unknown
  readonly data: unknown
  readonly response: Record<string, unknown>
}

/** The ClientResponseError `p` rejects with; fails the test if it resolves. */
export async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p
  } catch (err) {
    if (!(err instanceof ClientResponseError)) throw err
    const response = err.response
    return { status: err.status, message: response.message, data: response.data, response }
  }
  throw new Error('expected the request to fail')
}

/** Requests an OTP through the SDK and reads its code from the mail it sent. */
export async function requestCode(
  g: OtpGalley,
  email: string,
  collection = 'users',
): Promise<{ otpId: string; code: string; text: string }> {
  const { otpId } = await g.running.sdk().collection(collection).requestOTP(email)
  const mail = await g.sink.waitFor(email, { match: (m) => m.subject === `OTP ${otpId}` })
  return { otpId, code: /code=(\d+)/.exec(mail.text)?.[1] ?? '', text: mail.text }
}

/** Makes rows of `table` where `column` = `value` look created `seconds` ago. */
export async function backdate(
  g: OtpGalley,
  table: string,
  column: string,
  value: string,
  seconds: number,
): Promise<void> {
  await g.running.galley.database.db
    .updateTable(table)
    .set({ created: formatDateTime(new Date(Date.now() - seconds * 1000)) })
    .where(column, '=', value)
    .execute()
}
