import { EventSource } from 'eventsource'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_OTP_ATTEMPTS } from '../src/auth/otp-attempts.js'
import { MAX_LIVE_OTPS, MAX_OTP_INPUT_LENGTH } from '../src/auth/otp.js'
import { DB_KINDS, startGalley, type RunningGalley } from './helpers/galley.js'
import {
  backdate as backdateRows,
  failure as clientFailure,
  OTP_TEMPLATE as TEMPLATE,
  requestCode as requestOtpCode,
  startOtpGalley,
  type OtpGalley,
} from './helpers/otp.js'
import type { SmtpSink } from './helpers/smtp-sink.js'
import { until } from './helpers/sse.js'

// the SDK's realtime needs an EventSource in Node
;(globalThis as { EventSource?: unknown }).EventSource = EventSource

const PASSWORD = 'password123'

/** The status and PocketBase error body a request failed with. */
async function failure(p: Promise<unknown>): Promise<{ status: number; message: unknown; data: unknown }> {
  const { status, message, data } = await clientFailure(p)
  return { status, message, data }
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`OTP sign-in on ${kind}`, () => {
    let g: OtpGalley
    let running: RunningGalley
    let sink: SmtpSink
    let su: PocketBase
    let n = 0

    const users = () => running.sdk().collection('users')
    /** A new user of `users`; `verified` as given. */
    async function newUser(verified = true): Promise<{ id: string; email: string }> {
      const email = `user${++n}@example.com`
      const r = await su
        .collection('users')
        .create({ email, password: PASSWORD, passwordConfirm: PASSWORD, verified })
      return { id: r.id, email }
    }
    /** Requests an OTP and reads its code from the mail it sent. */
    async function requestCode(
      email: string,
      collection = 'users',
    ): Promise<{ otpId: string; code: string }> {
      const r = await requestOtpCode(g, email, collection)
      expect(r.text).toContain(`id=${r.otpId} for ${email}`)
      return r
    }
    /** A code of the same length that is not `code`. */
    const wrong = (code: string) => code.replace(/^./, (d) => String((Number(d) + 1) % 10))
    const backdate = (table: string, id: string, seconds: number) => backdateRows(g, table, 'id', id, seconds)
    const otpRows = (recordId: string) =>
      running.galley.database.db.selectFrom('_otps').selectAll().where('recordRef', '=', recordId).execute()

    beforeAll(async () => {
      g = await startOtpGalley(kind)
      ;({ running, sink, su } = g)
      await su.collections.update('users', { otp: { enabled: true, emailTemplate: TEMPLATE } })
    })
    afterAll(async () => {
      await g?.close()
    })

    it('signs in end to end: requestOTP, the code from the mail, authWithOTP', async () => {
      const { id, email } = await newUser()
      const { otpId, code } = await requestCode(email)
      expect(otpId).toMatch(/^[a-z0-9]{15}$/)
      expect(code).toMatch(/^\d{8}$/)
      const pb = running.sdk()
      const auth = await pb.collection('users').authWithOTP(otpId, code)
      expect(auth.record.id).toBe(id)
      expect(auth.record.email).toBe(email)
      expect(pb.authStore.isValid).toBe(true)
      expect((await pb.collection('users').authRefresh()).record.id).toBe(id)
    })

    it('a password or email change through the records API voids pending OTPs; other edits do not', async () => {
      const { id, email } = await newUser()
      const kept = await requestCode(email)
      await su.collection('users').update(id, { emailVisibility: true })
      expect(await otpRows(id)).toHaveLength(1)
      await su
        .collection('users')
        .update(id, { password: 'another password 1', passwordConfirm: 'another password 1' })
      expect(await otpRows(id)).toHaveLength(0)
      expect(await failure(users().authWithOTP(kept.otpId, kept.code))).toMatchObject({ status: 400 })
      const second = await requestCode(email)
      await su.collection('users').update(id, { email: `changed-${email}` })
      expect(await failure(users().authWithOTP(second.otpId, second.code))).toMatchObject({ status: 400 })
    })

    it('stores only a keyed hash of the code, from the CSPRNG, as long as otp.length says', async () => {
      await su.collections.update('users', { otp: { length: 5 } })
      try {
        const { id, email } = await newUser()
        const { otpId, code } = await requestCode(email)
        expect(code).toMatch(/^\d{5}$/)
        const [row] = await otpRows(id)
        expect(row?.id).toBe(otpId)
        expect(row?.sentTo).toBe(email)
        expect(String(row?.password)).toMatch(/^hmac-sha256\$[\w-]{43}$/)
        expect(String(row?.password)).not.toContain(code)
      } finally {
        await su.collections.update('users', { otp: { length: 8 } })
      }
    })

    it('answers an unknown address with an otpId of the same shape and sends nothing', async () => {
      const known = await newUser()
      const res = await fetch(`${running.url}/api/collections/users/request-otp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'nobody@example.com' }),
      })
      const body = (await res.json()) as Record<string, unknown>
      expect(res.status).toBe(200)
      expect(Object.keys(body)).toEqual(['otpId'])
      expect(body.otpId).toMatch(/^[a-z0-9]{15}$/)
      const knownRes = await fetch(`${running.url}/api/collections/users/request-otp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: known.email }),
      })
      expect(knownRes.status).toBe(200)
      expect(Object.keys((await knownRes.json()) as object)).toEqual(['otpId'])
      await running.galley.auth.otp.idle()
      await running.galley.mail.idle()
      expect(sink.to('nobody@example.com')).toHaveLength(0)
      expect(sink.to(known.email)).toHaveLength(1)
      const e = await failure(users().authWithOTP(String(body.otpId), '12345678'))
      expect(e).toEqual({ status: 400, message: 'Invalid or expired OTP.', data: {} })
    })

    it('refuses with 403 when OTP is disabled, and validates its input', async () => {
      await su.collections.update('users', { otp: { enabled: false } })
      try {
        const msg = 'The collection is not configured to allow OTP authentication.'
        expect(await failure(users().requestOTP('a@example.com'))).toMatchObject({
          status: 403,
          message: msg,
        })
        expect(await failure(users().authWithOTP('x', '1'))).toMatchObject({ status: 403, message: msg })
      } finally {
        await su.collections.update('users', { otp: { enabled: true } })
      }
      const invalid = 'An error occurred while validating the submitted data.'
      for (const [email, code] of [
        ['', 'validation_required'],
        ['not an email', 'validation_is_email'],
        [42, 'validation_invalid_value_type'],
      ] as const) {
        const e = await failure(users().requestOTP(email as string))
        expect(e.status).toBe(400)
        expect(e.message).toBe(invalid)
        expect((e.data as { email?: { code: string } }).email?.code).toBeDefined()
        if (code !== 'validation_invalid_value_type')
          expect((e.data as { email: { code: string } }).email.code).toBe(code)
      }
      // The longest address accepted, and one more character.
      const longest = `${'a'.repeat(MAX_OTP_INPUT_LENGTH - '@example.com'.length)}@example.com`
      expect((await users().requestOTP(longest)).otpId).toMatch(/^[a-z0-9]{15}$/)
      const e = await failure(users().requestOTP(`a${longest}`))
      expect(e.data).toMatchObject({ email: { code: 'validation_length_out_of_range' } })
      const both = await failure(users().authWithOTP('', ''))
      expect(both).toMatchObject({
        status: 400,
        message: invalid,
        data: { otpId: { code: 'validation_required' }, password: { code: 'validation_required' } },
      })
      const long = 'x'.repeat(MAX_OTP_INPUT_LENGTH + 1)
      expect((await failure(users().authWithOTP(long, '1'))).data).toMatchObject({
        otpId: { code: 'validation_length_out_of_range' },
      })
      expect(await failure(users().authWithOTP('x'.repeat(MAX_OTP_INPUT_LENGTH), '1'))).toEqual({
        status: 400,
        message: 'Invalid or expired OTP.',
        data: {},
      })
      expect(await failure(users().authWithOTP('abc\u0000def', '1'))).toMatchObject({ status: 400 })
    })

    it('refuses a wrong code without using the OTP up, and a used OTP', async () => {
      const { email } = await newUser()
      const { otpId, code } = await requestCode(email)
      expect(await failure(users().authWithOTP(otpId, wrong(code)))).toEqual({
        status: 400,
        message: 'Invalid or expired OTP.',
        data: {},
      })
      await users().authWithOTP(otpId, code)
      expect(await failure(users().authWithOTP(otpId, code))).toMatchObject({
        status: 400,
        message: 'Invalid or expired OTP.',
      })
    })

    it('lets only one of two concurrent sign-ins with the same code through', async () => {
      const { email } = await newUser()
      const { otpId, code } = await requestCode(email)
      const results = await Promise.allSettled([
        users().authWithOTP(otpId, code),
        users().authWithOTP(otpId, code),
      ])
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    })

    it('expires after otp.duration', async () => {
      const { email } = await newUser()
      const a = await requestCode(email)
      const b = await requestCode(email)
      await backdate('_otps', a.otpId, 100)
      await backdate('_otps', b.otpId, 100)
      await su.collections.update('users', { otp: { duration: 60 } })
      try {
        expect(await failure(users().authWithOTP(a.otpId, a.code))).toMatchObject({
          status: 400,
          message: 'Invalid or expired OTP.',
        })
      } finally {
        await su.collections.update('users', { otp: { duration: 180 } })
      }
      expect((await users().authWithOTP(b.otpId, b.code)).record.email).toBe(email)
    })

    it("refuses another collection's OTP", async () => {
      // Even a record with the same id (ids are unique across auth collections, but not in an
      // imported database) and the same secret (the code's hash key) does not make it valid.
      const secret = 's'.repeat(40)
      await su.collections.update('users', { authToken: { secret } })
      await su.collections.create({
        name: 'members',
        type: 'auth',
        fields: [],
        otp: { enabled: true, emailTemplate: TEMPLATE },
        authToken: { secret },
      })
      const { id, email } = await newUser()
      await running.galley.database.db
        .insertInto('members')
        .values({
          id,
          email,
          password: '',
          tokenKey: 'k'.repeat(50),
          emailVisibility: running.galley.database.dialect.encode('bool', false),
          verified: running.galley.database.dialect.encode('bool', true),
        })
        .execute()
      const { otpId, code } = await requestCode(email)
      const members = running.sdk().collection('members')
      expect(await failure(members.authWithOTP(otpId, code))).toMatchObject({
        status: 400,
        message: 'Invalid or expired OTP.',
      })
      expect((await users().authWithOTP(otpId, code)).record.collectionName).toBe('users')
      // and the other way round
      await su.collection('members').delete(id)
      await su.collection('members').create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
      const m = await requestCode(email, 'members')
      expect(await failure(users().authWithOTP(m.otpId, m.code))).toMatchObject({ status: 400 })
      expect((await members.authWithOTP(m.otpId, m.code)).record.collectionName).toBe('members')
    })

    it(`allows ${MAX_OTP_ATTEMPTS} guesses per record, then 429 and the OTP is gone`, async () => {
      const tooMany = 'Too many attempts, please try again later with a new OTP.'
      // At the limit: the last allowed attempt may be the right code.
      const a = await newUser()
      const otpA = await requestCode(a.email)
      for (let i = 0; i < MAX_OTP_ATTEMPTS - 1; i++)
        expect((await failure(users().authWithOTP(otpA.otpId, wrong(otpA.code)))).status).toBe(400)
      expect((await users().authWithOTP(otpA.otpId, otpA.code)).record.id).toBe(a.id)
      // A right code wipes the record's failed guesses: the next OTP is not refused.
      const otpA2 = await requestCode(a.email)
      expect((await users().authWithOTP(otpA2.otpId, otpA2.code)).record.id).toBe(a.id)

      // One more: refused even with the right code, and the OTP is invalidated.
      const b = await newUser()
      const otpB = await requestCode(b.email)
      for (let i = 0; i < MAX_OTP_ATTEMPTS; i++)
        expect((await failure(users().authWithOTP(otpB.otpId, wrong(otpB.code)))).status).toBe(400)
      expect(await failure(users().authWithOTP(otpB.otpId, otpB.code))).toEqual({
        status: 429,
        message: tooMany,
        data: {},
      })
      expect(await failure(users().authWithOTP(otpB.otpId, otpB.code))).toMatchObject({
        status: 400,
        message: 'Invalid or expired OTP.',
      })
      // The count is per record: a new OTP does not reset it within the window...
      const otpB2 = await requestCode(b.email)
      expect((await failure(users().authWithOTP(otpB2.otpId, otpB2.code))).status).toBe(429)
      // ...and once the guesses are older than the window, a new OTP works.
      await backdateRows(g, '_otpAttempts', 'recordRef', b.id, 181)
      const otpB3 = await requestCode(b.email)
      expect((await users().authWithOTP(otpB3.otpId, otpB3.code)).record.id).toBe(b.id)
    })

    it('counts guesses in the database: they hold across instances', async () => {
      const other = await startGalley(g.store, { superuser: false })
      try {
        const { email } = await newUser()
        const { otpId, code } = await requestCode(email)
        const there = other.sdk().collection('users')
        for (let i = 0; i < MAX_OTP_ATTEMPTS; i++) {
          const via = i % 2 === 0 ? users() : there
          expect((await failure(via.authWithOTP(otpId, wrong(code)))).status).toBe(400)
        }
        expect((await failure(there.authWithOTP(otpId, code))).status).toBe(429)
      } finally {
        await other.close()
      }
    })

    it('verifies an unverified record and replaces its password; a verified one keeps it', async () => {
      const u = await newUser(false)
      const before = running.sdk()
      await before.collection('users').authWithPassword(u.email, PASSWORD)
      const { otpId, code } = await requestCode(u.email)
      // the change is a record event like any other (realtime)
      const events: { action: string; record: Record<string, unknown> }[] = []
      const watcher = await running.asSuperuser()
      await watcher.collection('users').subscribe(u.id, (e) => events.push(e))
      const auth = await users().authWithOTP(otpId, code)
      expect(auth.record.verified).toBe(true)
      expect((await su.collection('users').getOne(u.id)).verified).toBe(true)
      await until(() => events.some((e) => e.action === 'update' && e.record.verified === true), 'the event')
      await watcher.realtime.unsubscribe()
      // The password set before the address was proven is gone, and so are its sessions.
      expect((await failure(users().authWithPassword(u.email, PASSWORD))).status).toBe(400)
      expect((await failure(before.collection('users').authRefresh())).status).toBe(401)

      const v = await newUser(true)
      const otp = await requestCode(v.email)
      await users().authWithOTP(otp.otpId, otp.code)
      expect((await users().authWithPassword(v.email, PASSWORD)).record.id).toBe(v.id)
    })

    it('does not verify when the OTP went to an address the record no longer has', async () => {
      // An email change voids pending OTPs (tested above), so the OTP's recorded address is made
      // an old one directly: the check compares it with the record's current email.
      const u = await newUser(false)
      const { otpId, code } = await requestCode(u.email)
      await running.galley.database.db
        .updateTable('_otps')
        .set({ sentTo: `old-${u.email}` })
        .where('id', '=', otpId)
        .execute()
      const auth = await users().authWithOTP(otpId, code)
      expect(auth.record.verified).toBe(false)
      expect((await users().authWithPassword(u.email, PASSWORD)).record.id).toBe(u.id)
    })

    it(`keeps at most ${MAX_LIVE_OTPS} live OTPs per record, then answers ids that match none`, async () => {
      const { id, email } = await newUser()
      const ids: string[] = []
      for (let i = 0; i < MAX_LIVE_OTPS; i++) {
        ids.push((await users().requestOTP(email)).otpId)
        await running.galley.auth.otp.idle()
      }
      await running.galley.mail.idle()
      expect(new Set(ids).size).toBe(MAX_LIVE_OTPS)
      expect(sink.to(email)).toHaveLength(MAX_LIVE_OTPS)
      expect(await otpRows(id)).toHaveLength(MAX_LIVE_OTPS)
      // Beyond the cap, as for an unknown address (not PocketBase's "latest is reused", which tells
      // a known address by its repeated id): a fresh id each time, no OTP behind it, no mail.
      const over: string[] = []
      for (let i = 0; i < 3; i++) over.push((await users().requestOTP(email)).otpId)
      await running.galley.auth.otp.idle()
      await running.galley.mail.idle()
      expect(new Set([...ids, ...over]).size).toBe(MAX_LIVE_OTPS + over.length)
      for (const otpId of over) expect(otpId).toMatch(/^[a-z0-9]{15}$/)
      expect(sink.to(email)).toHaveLength(MAX_LIVE_OTPS)
      expect((await otpRows(id)).map((r) => r.id).sort()).toEqual([...ids].sort())
      expect(await failure(users().authWithOTP(over[0]!, '12345678'))).toEqual({
        status: 400,
        message: 'Invalid or expired OTP.',
        data: {},
      })
      // Expired ones do not count.
      for (const otpId of ids) await backdate('_otps', otpId, 181)
      const fresh = await requestCode(email)
      expect(ids).not.toContain(fresh.otpId)
      expect((await users().authWithOTP(fresh.otpId, fresh.code)).record.id).toBe(id)
    })

    it("never shows _otps' password or sentTo to their owner", async () => {
      const { id, email } = await newUser()
      const pb = running.sdk()
      await pb.collection('users').authWithPassword(email, PASSWORD)
      await requestCode(email)
      const list = await pb.collection('_otps').getFullList()
      expect(list).toHaveLength(1)
      expect(list[0]?.recordRef).toBe(id)
      expect(list[0]).not.toHaveProperty('password')
      expect(list[0]).not.toHaveProperty('sentTo')
      const one = await pb.collection('_otps').getOne(list[0]!.id)
      expect(one).not.toHaveProperty('password')
      expect(one).not.toHaveProperty('sentTo')
      // Nor through a filter or sort on them.
      expect((await failure(pb.collection('_otps').getList(1, 10, { filter: 'sentTo != ""' }))).status).toBe(
        400,
      )
      expect((await failure(pb.collection('_otps').getList(1, 10, { sort: 'password' }))).status).toBe(400)
      // Another user sees none of them.
      const other = await newUser()
      const pb2 = running.sdk()
      await pb2.collection('users').authWithPassword(other.email, PASSWORD)
      expect(await pb2.collection('_otps').getFullList()).toHaveLength(0)
    })

    it('sweeps expired OTPs and old guesses, keeping the live ones', async () => {
      const { id, email } = await newUser()
      const old = await requestCode(email)
      const live = await requestCode(email)
      await backdate('_otps', old.otpId, 181)
      expect((await failure(users().authWithOTP(live.otpId, wrong(live.code)))).status).toBe(400)
      await backdateRows(g, '_otpAttempts', 'recordRef', id, 181)
      const result = await running.galley.auth.sweeper.sweep()
      expect(result.otps).toBeGreaterThanOrEqual(1)
      expect(result.attempts).toBeGreaterThanOrEqual(1)
      expect((await otpRows(id)).map((r) => r.id)).toEqual([live.otpId])
      const attempts = await running.galley.database.db
        .selectFrom('_otpAttempts')
        .selectAll()
        .where('recordRef', '=', id)
        .execute()
      expect(attempts).toHaveLength(0)
    })
  })
}
