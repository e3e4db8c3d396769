import type PocketBase from 'pocketbase'
import { ClientResponseError } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { linkOrCreate } from '../src/auth/oauth2/oauth2-linking.js'
import { DB_KINDS, SU_EMAIL, SU_PASSWORD, type RunningGalley } from './helpers/galley.js'
import {
  backdate,
  failure,
  OTP_TEMPLATE as TEMPLATE,
  requestCode as requestOtpCode,
  startOtpGalley,
  type OtpGalley,
} from './helpers/otp.js'

const PASSWORD = 'password123'

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`MFA on ${kind}`, () => {
    let g: OtpGalley
    let running: RunningGalley
    let su: PocketBase
    let n = 0

    const users = (pb = running.sdk()) => pb.collection('users')
    async function newUser(): Promise<{ id: string; email: string }> {
      const email = `mfa${++n}@example.com`
      const r = await su
        .collection('users')
        .create({ email, password: PASSWORD, passwordConfirm: PASSWORD, verified: true })
      return { id: r.id, email }
    }
    const requestCode = (email: string, collection = 'users') => requestOtpCode(g, email, collection)
    /** The first step with a password: the mfaId of the 401. */
    async function passwordStep(email: string, collection = 'users'): Promise<string> {
      const e = await failure(running.sdk().collection(collection).authWithPassword(email, PASSWORD))
      expect(e.status).toBe(401)
      expect(e.response.mfaId).toMatch(/^[a-z0-9]{15}$/)
      return String(e.response.mfaId)
    }
    const mfaRow = (id: string) =>
      running.galley.database.db.selectFrom('_mfas').selectAll().where('id', '=', id).executeTakeFirst()

    beforeAll(async () => {
      g = await startOtpGalley(kind)
      ;({ running, su } = g)
      await su.collections.update('users', {
        otp: { enabled: true, emailTemplate: TEMPLATE },
        mfa: { enabled: true, rule: '' },
      })
    })
    afterAll(async () => {
      await g?.close()
    })

    it('password then OTP through the SDK: 401 {mfaId}, then the second step signs in', async () => {
      const { id, email } = await newUser()
      // The first step's body is exactly {"mfaId": "..."}, not the error shape.
      const res = await fetch(`${running.url}/api/collections/users/auth-with-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity: email, password: PASSWORD }),
      })
      expect(res.status).toBe(401)
      const body = (await res.json()) as Record<string, unknown>
      expect(Object.keys(body)).toEqual(['mfaId'])
      expect(await mfaRow(String(body.mfaId))).toMatchObject({
        collectionRef: '_pb_users_auth_',
        recordRef: id,
        method: 'password',
      })

      const pb = running.sdk()
      let mfaId = ''
      try {
        await users(pb).authWithPassword(email, PASSWORD)
      } catch (err) {
        if (!(err instanceof ClientResponseError) || err.status !== 401) throw err
        mfaId = String(err.response.mfaId)
      }
      expect(pb.authStore.isValid).toBe(false)
      const { otpId, code } = await requestCode(email)
      const auth = await users(pb).authWithOTP(otpId, code, { mfaId })
      expect(auth.record.id).toBe(id)
      expect(pb.authStore.isValid).toBe(true)
      expect(await mfaRow(mfaId)).toBeUndefined()
      // auth-refresh needs no second factor
      expect((await users(pb).authRefresh()).record.id).toBe(id)
      // a used MFA session is gone
      const again = await requestCode(email)
      expect(await failure(users().authWithOTP(again.otpId, again.code, { mfaId }))).toMatchObject({
        status: 400,
        response: { message: 'Invalid or expired MFA session.' },
      })
    })

    it('OTP then password, the mfaId as a body field', async () => {
      const { id, email } = await newUser()
      const { otpId, code } = await requestCode(email)
      const first = await failure(users().authWithOTP(otpId, code))
      expect(first.status).toBe(401)
      const mfaId = String(first.response.mfaId)
      expect((await mfaRow(mfaId))?.method).toBe('otp')
      const res = await fetch(`${running.url}/api/collections/users/auth-with-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity: email, password: PASSWORD, mfaId }),
      })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { record: { id: string } }).record.id).toBe(id)
    })

    it('refuses the same method twice', async () => {
      const { email } = await newUser()
      const mfaId = await passwordStep(email)
      expect(await failure(users().authWithPassword(email, PASSWORD, { mfaId }))).toMatchObject({
        status: 400,
        response: { message: 'A different authentication method is required.', data: {} },
      })
      // the session is still usable with another method
      const { otpId, code } = await requestCode(email)
      expect((await users().authWithOTP(otpId, code, { mfaId })).record.email).toBe(email)
    })

    it("refuses another record's or another collection's MFA session", async () => {
      const a = await newUser()
      const b = await newUser()
      const mfaA = await passwordStep(a.email)
      const otpB = await requestCode(b.email)
      expect(await failure(users().authWithOTP(otpB.otpId, otpB.code, { mfaId: mfaA }))).toMatchObject({
        status: 400,
        response: { message: 'Invalid MFA session.' },
      })
      await su.collections.create({
        name: 'staff',
        type: 'auth',
        fields: [],
        otp: { enabled: true, emailTemplate: TEMPLATE },
        mfa: { enabled: true },
      })
      await su.collection('staff').create({ email: a.email, password: PASSWORD, passwordConfirm: PASSWORD })
      const otpStaff = await requestCode(a.email, 'staff')
      expect(
        await failure(
          running.sdk().collection('staff').authWithOTP(otpStaff.otpId, otpStaff.code, { mfaId: mfaA }),
        ),
      ).toMatchObject({ status: 400, response: { message: 'Invalid MFA session.' } })
    })

    it('refuses an unknown or expired MFA session (mfa.duration)', async () => {
      const { email } = await newUser()
      const unknown = await requestCode(email)
      expect(
        await failure(users().authWithOTP(unknown.otpId, unknown.code, { mfaId: 'aaaaaaaaaaaaaaa' })),
      ).toMatchObject({ status: 400, response: { message: 'Invalid or expired MFA session.' } })

      const mfaId = await passwordStep(email)
      // 100 s old: alive with the default 600 s, expired with 60 s.
      await backdate(g, '_mfas', 'id', mfaId, 100)
      await su.collections.update('users', { mfa: { duration: 60 } })
      try {
        const { otpId, code } = await requestCode(email)
        expect(await failure(users().authWithOTP(otpId, code, { mfaId }))).toMatchObject({
          status: 400,
          response: { message: 'Invalid or expired MFA session.' },
        })
      } finally {
        await su.collections.update('users', { mfa: { duration: 600 } })
      }
      const live = await passwordStep(email)
      await backdate(g, '_mfas', 'id', live, 100)
      const { otpId, code } = await requestCode(email)
      expect((await users().authWithOTP(otpId, code, { mfaId: live })).record.email).toBe(email)
    })

    it('mfa.rule decides who needs it, with @request.context = the method', async () => {
      const direct = await newUser()
      const other = await newUser()
      await su.collections.update('users', { mfa: { rule: `email != "${direct.email}"` } })
      try {
        expect((await users().authWithPassword(direct.email, PASSWORD)).record.id).toBe(direct.id)
        await passwordStep(other.email)
        await su.collections.update('users', { mfa: { rule: '@request.context = "password"' } })
        await passwordStep(direct.email)
        const { otpId, code } = await requestCode(direct.email)
        expect((await users().authWithOTP(otpId, code)).record.id).toBe(direct.id)
      } finally {
        await su.collections.update('users', { mfa: { rule: '' } })
      }
    })

    it('replaces a pre-registered password at OTP verification when mfa.rule skips the record', async () => {
      // An attacker signs up with the victim's address and a password; the owner later signs in
      // by OTP, which verifies the record. MFA is on, but its rule does not select this record:
      // the OTP alone signs in, so the attacker's password must not survive it.
      const victim = `victim${++n}@example.com`
      const attackerPassword = 'attacker password 1'
      await users().create({ email: victim, password: attackerPassword, passwordConfirm: attackerPassword })
      // A first step the attacker holds from before (MFA then applied to everyone).
      const held = await failure(users().authWithPassword(victim, attackerPassword))
      expect(held.status).toBe(401)
      const heldMfaId = String(held.response.mfaId)
      const pending = await requestCode(victim)
      await su.collections.update('users', { mfa: { rule: "name = 'vip'" } })
      try {
        const { otpId, code } = await requestCode(victim)
        const auth = await users().authWithOTP(otpId, code)
        expect(auth.record.verified).toBe(true)
        expect(await failure(users().authWithPassword(victim, attackerPassword))).toMatchObject({
          status: 400,
        })
        // The record's pending factors went with the password.
        expect(await mfaRow(heldMfaId)).toBeUndefined()
        expect(await failure(users().authWithOTP(pending.otpId, pending.code))).toMatchObject({
          status: 400,
          message: 'Invalid or expired OTP.',
        })
      } finally {
        await su.collections.update('users', { mfa: { rule: '' } })
      }
    })

    it('keeps the password at OTP verification when this record needs a second factor', async () => {
      const email = `vip${++n}@example.com`
      await su
        .collection('users')
        .create({ email, name: 'vip', password: PASSWORD, passwordConfirm: PASSWORD, verified: false })
      await su.collections.update('users', { mfa: { rule: "name = 'vip'" } })
      try {
        const { otpId, code } = await requestCode(email)
        const first = await failure(users().authWithOTP(otpId, code))
        expect(first.status).toBe(401)
        // Verified, and the password is the second factor that completes the sign-in.
        const auth = await users().authWithPassword(email, PASSWORD, { mfaId: String(first.response.mfaId) })
        expect(auth.record.verified).toBe(true)
      } finally {
        await su.collections.update('users', { mfa: { rule: '' } })
      }
    })

    it("an OAuth2 link that resets an unverified record's password drops its OTPs and MFA steps", async () => {
      const email = `linked${++n}@example.com`
      const created = await su
        .collection('users')
        .create({ email, password: PASSWORD, passwordConfirm: PASSWORD, verified: false })
      const mfaId = await passwordStep(email)
      const { otpId } = await requestCode(email)
      const auth = running.galley.auth
      const c = auth.authCollection('users')
      const { row } = await linkOrCreate(
        auth.deps,
        c,
        {
          provider: 'oidc',
          user: { id: `sub-${n}`, name: '', username: '', email, avatarURL: '', rawUser: {} },
          request: { method: 'POST', headers: {}, query: {}, body: {}, context: 'oauth2' },
          createData: {},
        },
        (id, ex) => auth.findById(c, id, ex),
      )
      expect(row.id).toBe(created.id)
      expect(await mfaRow(mfaId)).toBeUndefined()
      const otps = running.galley.database.db.selectFrom('_otps').selectAll()
      expect(await otps.where('id', '=', otpId).execute()).toHaveLength(0)
    })

    it('checks the authRule before MFA', async () => {
      const { email } = await newUser()
      await su.collections.update('users', { authRule: `email != "${email}"` })
      try {
        expect(await failure(users().authWithPassword(email, PASSWORD))).toMatchObject({ status: 403 })
      } finally {
        await su.collections.update('users', { authRule: '' })
      }
    })

    it('lets only one of two concurrent second steps use an MFA session', async () => {
      const { email } = await newUser()
      const a = await requestCode(email)
      const b = await requestCode(email)
      const mfaId = await passwordStep(email)
      const results = await Promise.allSettled([
        users().authWithOTP(a.otpId, a.code, { mfaId }),
        users().authWithOTP(b.otpId, b.code, { mfaId }),
      ])
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected'])
    })

    it('needs at least two enabled methods to turn MFA on', async () => {
      const e = await failure(
        su.collections.create({
          name: 'single',
          type: 'auth',
          fields: [],
          mfa: { enabled: true },
        }),
      )
      expect(e.status).toBe(400)
      expect(e.response.data).toMatchObject({
        mfa: { enabled: { code: 'validation_mfa_not_enough_auth_methods' } },
      })
      const ok = await su.collections.create({
        name: 'double',
        type: 'auth',
        fields: [],
        otp: { enabled: true },
        mfa: { enabled: true },
      })
      expect(ok.mfa.enabled).toBe(true)
      const off = await failure(su.collections.update('double', { otp: { enabled: false } }))
      expect(off.response.data).toMatchObject({
        mfa: { enabled: { code: 'validation_mfa_not_enough_auth_methods' } },
      })
    })

    it('impersonation needs no second factor', async () => {
      const { id } = await newUser()
      const client = await su.collection('users').impersonate(id, 3600)
      expect(client.authStore.record?.id).toBe(id)
    })

    it('_superusers get MFA when their OTP is enabled', async () => {
      expect(
        (await running.sdk().collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD)).token,
      ).toBeTruthy()
      await su.collections.update('_superusers', { otp: { enabled: true, emailTemplate: TEMPLATE } })
      try {
        const pb = running.sdk()
        // the SDK's listAuthMethods tells the dashboard a second step follows
        const methods = await pb.collection('_superusers').listAuthMethods()
        expect(methods.mfa).toEqual({ enabled: true, duration: 600 })
        const first = await failure(pb.collection('_superusers').authWithPassword(SU_EMAIL, SU_PASSWORD))
        expect(first.status).toBe(401)
        const { otpId, code } = await requestCode(SU_EMAIL, '_superusers')
        const auth = await pb
          .collection('_superusers')
          .authWithOTP(otpId, code, { mfaId: String(first.response.mfaId) })
        expect(auth.record.email).toBe(SU_EMAIL)
      } finally {
        await su.collections.update('_superusers', { otp: { enabled: false } })
      }
    })

    it('sweeps expired MFA sessions, keeping live ones', async () => {
      const { email } = await newUser()
      const old = await passwordStep(email)
      const live = await passwordStep(email)
      await backdate(g, '_mfas', 'id', old, 601)
      expect((await running.galley.auth.sweeper.sweep()).mfas).toBeGreaterThanOrEqual(1)
      expect(await mfaRow(old)).toBeUndefined()
      expect(await mfaRow(live)).toBeDefined()
    })
  })
}
