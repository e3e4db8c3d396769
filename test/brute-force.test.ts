/**
 * Galley's brute-force guard (`settings.bruteForce`, on by default; RELIABILITY T9, ASVS 6.1.1 and
 * 6.3.1, §2 items 9, 13, 21) on SQLite and PostgreSQL: 1,000 attempts that rotate spoofed
 * X-Forwarded-For headers and extra body fields get no more than the cap; the victim still signs in
 * from another client; unknown identities get the same 429; successes do not count. Clients
 * sharing one address (NAT, an unconfigured proxy) do not lock out those who signed in from it;
 * confirm-email-change and oldPassword updates (batched too) are guarded as well.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { signMailToken } from '../src/auth/mail-tokens.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Json = Record<string, unknown>

const TOO_MANY = { status: 429, message: 'Too Many Requests.', data: {} }
const FAILED = { status: 400, message: 'Failed to authenticate.', data: {} }
const PASSWORD = 'victim password 123'
const DEFAULTS = {
  enabled: true,
  perIP: { maxRequests: 60, duration: 60 },
  perIdentityAndIP: { maxRequests: 10, duration: 60 },
  perIdentity: { maxRequests: 100, duration: 60 },
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`brute-force guard on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley

    async function signIn(body: Json, headers: Record<string, string> = {}, c = 'users') {
      const res = await fetch(`${g.url}/api/collections/${c}/auth-with-password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as unknown }
    }
    /** `n` attempts, `concurrency` at a time; the answers in order. */
    async function attempts(n: number, make: (i: number) => Promise<{ status: number; body: unknown }>) {
      const out: { status: number; body: unknown }[] = new Array(n)
      let next = 0
      const worker = async () => {
        while (next < n) {
          const i = next++
          out[i] = await make(i)
        }
      }
      await Promise.all(Array.from({ length: 16 }, worker))
      return out
    }
    const counts = (rs: { status: number }[]) => {
      const c: Record<number, number> = {}
      for (const r of rs) c[r.status] = (c[r.status] ?? 0) + 1
      return c
    }
    const configure = (bruteForce: Json) => g.galley.settings.update({ bruteForce })
    const viaProxy = (enabled: boolean) =>
      g.galley.settings.update({
        trustedProxy: { headers: enabled ? ['X-Forwarded-For'] : [], useLeftmostIP: false },
      })
    /** Each test signs in as users of its own. */
    let seq = 0
    async function user(prefix: string) {
      const email = `${prefix}${++seq}@example.com`
      await g.galley.records.create(
        g.galley.records.collection('users'),
        { email, password: PASSWORD, passwordConfirm: PASSWORD },
        { auth: undefined, method: 'POST', headers: {}, query: {}, body: {}, context: 'default' },
      )
      return email
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      await g.galley.collections.update('users', { createRule: '' })
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it('is on by default with T9 limits', () => {
      expect(g.galley.settings.get().bruteForce).toEqual(DEFAULTS)
    })

    it('1,000 attempts rotating spoofed X-Forwarded-For and extra body fields: at most 10 answered', async () => {
      const victim = await user('victim')
      const rs = await attempts(1000, (i) =>
        signIn(
          // Case and spaces do not make a new identity; identityField and junk fields change nothing.
          {
            identity: i % 2 ? victim.toUpperCase() : ` ${victim} `,
            password: `guess ${i}`,
            [`junk${i}`]: i,
            email: `other${i}@example.com`,
            ...(i % 3 === 0 ? { identityField: 'email' } : {}),
          },
          { 'x-forwarded-for': `10.${i >> 8}.${i & 255}.1`, 'x-real-ip': `10.9.${i & 255}.1` },
        ),
      )
      const answered = rs.filter((r) => r.status !== 429)
      console.log(`[brute-force ${kind}] 1000 attempts on one identity:`, counts(rs))
      expect(answered.length).toBeLessThanOrEqual(10)
      expect(answered.length).toBe(10)
      for (const r of answered) expect(r).toEqual({ status: 400, body: FAILED })
      for (const r of rs.filter((x) => x.status === 429)) expect(r.body).toEqual(TOO_MANY)

      // The attacker's client stays refused, even with the right password ...
      expect(await signIn({ identity: victim, password: PASSWORD })).toEqual({ status: 429, body: TOO_MANY })
      // ... while the victim, from another client, signs in (no malicious lockout, ASVS 6.3.1).
      await viaProxy(true)
      try {
        const ok = await signIn(
          { identity: victim, password: PASSWORD },
          { 'x-forwarded-for': '203.0.113.7' },
        )
        expect(ok.status).toBe(200)
        expect((ok.body as { record: { email: string } }).record.email).toBe(victim)
        // Without the header the request is the attacker's socket again.
        expect((await signIn({ identity: victim, password: PASSWORD })).status).toBe(429)
      } finally {
        await viaProxy(false)
      }
    })

    it('rotating identities from one client: at most perIP (60) answered', async () => {
      // A client of its own (through a trusted proxy), so earlier tests' attempts do not count here.
      await viaProxy(true)
      try {
        const rs = await attempts(300, (i) =>
          signIn({ identity: `nobody${i}@example.com`, password: 'x' }, { 'x-forwarded-for': '10.200.0.1' }),
        )
        console.log(`[brute-force ${kind}] 300 attempts on rotating identities:`, counts(rs))
        expect(rs.filter((r) => r.status !== 429).length).toBe(60)
      } finally {
        await viaProxy(false)
      }
    })

    it('unknown and known identities get identical 429s (no enumeration)', async () => {
      await configure({
        perIP: { maxRequests: 1000, duration: 62 },
        perIdentityAndIP: { maxRequests: 2, duration: 60 },
      })
      const known = await user('known')
      const tries = async (identity: string) => {
        const out = []
        for (let i = 0; i < 3; i++) out.push(await signIn({ identity, password: 'wrong' }))
        return out
      }
      const k = await tries(known)
      const u = await tries('unknown-person@example.com')
      expect(k).toEqual(u)
      expect(k.map((r) => r.status)).toEqual([400, 400, 429])
      expect(k[2]!.body).toEqual(TOO_MANY)
      await configure(DEFAULTS)
    })

    it('successful sign-ins give their attempt back: only failures count', async () => {
      await configure({
        perIP: { maxRequests: 1000, duration: 63 },
        perIdentityAndIP: { maxRequests: 3, duration: 60 },
      })
      const email = await user('ok')
      for (let i = 0; i < 10; i++)
        expect((await signIn({ identity: email, password: PASSWORD })).status).toBe(200)
      const fails = []
      for (let i = 0; i < 4; i++) fails.push((await signIn({ identity: email, password: 'no' })).status)
      expect(fails).toEqual([400, 400, 400, 429])
      await configure(DEFAULTS)
    })

    it('the per-identity ceiling across clients; a client that signed in before keeps working', async () => {
      await configure({
        perIP: { maxRequests: 1000, duration: 64 },
        perIdentityAndIP: { maxRequests: 2, duration: 60 },
        perIdentity: { maxRequests: 5, duration: 60 },
      })
      const email = await user('spread')
      await viaProxy(true)
      try {
        const from = (ip: string, password: string) =>
          signIn({ identity: email, password }, { 'x-forwarded-for': ip })
        // The owner's usual device signs in once.
        expect((await from('198.51.100.1', PASSWORD)).status).toBe(200)
        // Three attacking clients spend 2 each; the ceiling of 5 stops the sixth attempt.
        const spread = []
        for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3'])
          for (let i = 0; i < 2; i++) spread.push((await from(ip, 'guess')).status)
        expect(spread).toEqual([400, 400, 400, 400, 400, 429])
        // A new client is refused now, the known one is not.
        expect((await from('192.0.2.4', PASSWORD)).status).toBe(429)
        expect((await from('198.51.100.1', PASSWORD)).status).toBe(200)
        // An IPv6 client is counted by its /64.
        expect((await from('2001:db8:1:2::a', 'guess')).status).toBe(429)
      } finally {
        await viaProxy(false)
        await configure(DEFAULTS)
      }
    })

    it('IPv6 clients share their /64', async () => {
      await configure({ perIP: { maxRequests: 3, duration: 65 } })
      await viaProxy(true)
      try {
        const rs = []
        for (let i = 1; i <= 4; i++)
          rs.push(
            (
              await signIn(
                { identity: `v6-${i}@example.com`, password: 'x' },
                { 'x-forwarded-for': `2001:db8:5:6::${i}` },
              )
            ).status,
          )
        expect(rs).toEqual([400, 400, 400, 429])
        expect(
          (
            await signIn(
              { identity: 'v6@example.com', password: 'x' },
              { 'x-forwarded-for': '2001:db8:5:7::1' },
            )
          ).status,
        ).toBe(400)
      } finally {
        await viaProxy(false)
        await configure(DEFAULTS)
      }
    })

    it('the window reopens after `duration`; a collection id and its name are one scope', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
      try {
        await configure({
          perIP: { maxRequests: 1000, duration: 66 },
          perIdentityAndIP: { maxRequests: 2, duration: 30 },
        })
        const email = await user('window')
        const users = g.galley.collections.find('users')!
        expect((await signIn({ identity: email, password: 'x' })).status).toBe(400)
        expect((await signIn({ identity: email, password: 'x' }, {}, users.id)).status).toBe(400)
        expect((await signIn({ identity: email, password: PASSWORD }, {}, users.id)).status).toBe(429)
        vi.setSystemTime(Date.now() + 29_000)
        expect((await signIn({ identity: email, password: PASSWORD })).status).toBe(429)
        vi.setSystemTime(Date.now() + 1_000)
        expect((await signIn({ identity: email, password: PASSWORD })).status).toBe(200)
      } finally {
        vi.useRealTimers()
        await configure(DEFAULTS)
      }
    })

    it('OTP guesses count too: per client across OTP ids, per OTP id from one client', async () => {
      await viaProxy(true)
      try {
        const otp = (otpId: string, ip: string) =>
          fetch(`${g.url}/api/collections/users/auth-with-otp`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
            body: JSON.stringify({ otpId, password: '123456' }),
          }).then((r) => r.status)
        const rotating = []
        for (let i = 0; i < 61; i++) rotating.push(await otp(`otp${i}`, '10.202.0.1'))
        expect(rotating.filter((s) => s !== 429).length).toBe(60)
        expect(rotating[60]).toBe(429)
        const one = []
        for (let i = 0; i < 11; i++) one.push(await otp('sameotpid', '10.202.0.2'))
        expect(one.filter((s) => s !== 429).length).toBe(10)
      } finally {
        await viaProxy(false)
      }
    })

    it('can be turned off, and a missing identity still counts against the client', async () => {
      await configure({ perIP: { maxRequests: 2, duration: 60 } })
      await viaProxy(true)
      const from = { 'x-forwarded-for': '10.201.0.1' }
      try {
        expect((await signIn({ password: 'x' }, from)).status).toBe(400)
        expect((await signIn({ identity: 12 }, from)).status).toBe(400)
        expect(await signIn({ identity: 'a@b.co', password: 'x' }, from)).toEqual({
          status: 429,
          body: TOO_MANY,
        })
        await configure({ enabled: false })
        expect((await signIn({ identity: 'a@b.co', password: 'x' }, from)).status).toBe(400)
      } finally {
        await viaProxy(false)
        await configure(DEFAULTS)
      }
    })

    it('one shared address (NAT, proxy without trustedProxy): failures on other identities do not lock out who signed in from it', async () => {
      const victim = await user('shared')
      const stranger = await user('stranger')
      await viaProxy(true)
      const from = (ip: string, identity: string, password: string) =>
        signIn({ identity, password }, { 'x-forwarded-for': ip })
      try {
        // Every client of the proxy is 10.204.0.1; the victim signed in through it before.
        expect((await from('10.204.0.1', victim, PASSWORD)).status).toBe(200)
        const rs = []
        for (let i = 0; i < 61; i++) rs.push((await from('10.204.0.1', `nobody${i}@example.com`, 'x')).status)
        expect(rs.filter((s) => s === 400).length).toBe(60)
        expect(rs[60]).toBe(429)
        // The victim, with the right password, from the same address: signed in.
        expect((await from('10.204.0.1', victim, PASSWORD)).status).toBe(200)
        // Someone who never signed in from it is still limited, right password or not.
        expect(await from('10.204.0.1', stranger, PASSWORD)).toEqual({ status: 429, body: TOO_MANY })
        // Remembered per (identity, address): the victim is not known from another exhausted address.
        for (let i = 0; i < 60; i++) await from('10.204.0.2', `nobody${i}@example.com`, 'x')
        expect((await from('10.204.0.2', victim, PASSWORD)).status).toBe(429)
        // Nor is it a bypass on the victim's identity: the identity-from-address window still counts.
        const guesses = []
        for (let i = 0; i < 11; i++) guesses.push((await from('10.204.0.1', victim, `guess ${i}`)).status)
        expect(guesses).toEqual([...Array<number>(10).fill(400), 429])
      } finally {
        await viaProxy(false)
      }
    })

    describe('password checks outside sign-in', () => {
      const LIMITS = {
        perIP: { maxRequests: 1000, duration: 67 },
        perIdentityAndIP: { maxRequests: 3, duration: 60 },
        perIdentity: { maxRequests: 100, duration: 60 },
      }
      const post = async (
        path: string,
        body: unknown,
        headers: Record<string, string> = {},
        method = 'POST',
      ) => {
        const res = await fetch(`${g.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        })
        const text = await res.text()
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as unknown }
      }
      async function emailChangeToken(email: string, newEmail: string) {
        const c = g.galley.auth.authCollection('users')
        const row = await g.galley.auth.findById(c, await idOf(email))
        return signMailToken(c, row!, 'emailChange', { newEmail })
      }
      async function idOf(email: string) {
        const r = await signIn({ identity: email, password: PASSWORD }, { 'x-forwarded-for': '10.209.0.1' })
        return (r.body as { record: { id: string } }).record.id
      }
      const confirm = (token: unknown, password: string, ip: string, extra: Json = {}) =>
        post(
          '/api/collections/users/confirm-email-change',
          { token, password, ...extra },
          { 'x-forwarded-for': ip },
        )

      it('confirm-email-change: limit answered, limit+1 refused, keyed on the record its token names', async () => {
        const a = await user('change-a')
        const b = await user('change-b')
        await viaProxy(true)
        await configure(LIMITS)
        try {
          const rs = []
          // Fresh tokens and junk fields each time: one record, one key.
          for (let i = 0; i < 3; i++)
            rs.push(
              await confirm(await emailChangeToken(a, `new-a${i}@example.com`), 'wrong', '10.205.0.1', {
                [`x${i}`]: i,
                newEmail: `n${i}@example.com`,
              }),
            )
          for (const r of rs) expect(r.status).toBe(400)
          expect((rs[0]!.body as { data: Json }).data).toHaveProperty('password')
          expect(
            await confirm(await emailChangeToken(a, 'new-a9@example.com'), PASSWORD, '10.205.0.1'),
          ).toEqual({
            status: 429,
            body: TOO_MANY,
          })
          // Another record from the same client is its own key; the right password succeeds (204).
          expect(
            (await confirm(await emailChangeToken(b, 'new-b@example.com'), 'wrong', '10.205.0.1')).status,
          ).toBe(400)
          expect(
            (await confirm(await emailChangeToken(b, 'new-b@example.com'), PASSWORD, '10.205.0.1')).status,
          ).toBe(204)
          // A token without a readable record id is keyed by its hash.
          const garbage = []
          for (let i = 0; i < 4; i++)
            garbage.push((await confirm('not.a.token', 'wrong', '10.205.0.2')).status)
          expect(garbage).toEqual([400, 400, 400, 429])
          expect((await confirm('another.bad.token', 'wrong', '10.205.0.2')).status).toBe(400)
        } finally {
          await viaProxy(false)
          await configure(DEFAULTS)
        }
      })

      it('record updates sending oldPassword (direct and batched): limit answered, limit+1 refused', async () => {
        const a = await user('oldpw-a')
        const b = await user('oldpw-b')
        await viaProxy(true)
        await configure(LIMITS)
        await g.galley.settings.update({ batch: { enabled: true } })
        try {
          const login = async (email: string) =>
            (await signIn({ identity: email, password: PASSWORD }, { 'x-forwarded-for': '10.209.0.1' }))
              .body as {
              token: string
              record: { id: string }
            }
          const la = await login(a)
          const change = (oldPassword: string) => ({
            oldPassword,
            password: 'new password 456',
            passwordConfirm: 'new password 456',
          })
          const patch = (body: Json, ip = '10.206.0.1') =>
            post(
              `/api/collections/users/records/${la.record.id}`,
              body,
              { authorization: la.token, 'x-forwarded-for': ip },
              'PATCH',
            )
          // Updates without oldPassword check no password and count nothing.
          for (let i = 0; i < 5; i++) expect((await patch({ name: `n${i}` })).status).toBe(200)
          const rs = []
          for (let i = 0; i < 3; i++) rs.push(await patch(change(`wrong ${i}`)))
          for (const r of rs) expect(r.status).toBe(400)
          expect((rs[0]!.body as { data: Json }).data).toHaveProperty('oldPassword')
          expect(await patch(change(PASSWORD))).toEqual({ status: 429, body: TOO_MANY })
          // Another client has its own window; the right old password succeeds there.
          expect((await patch(change(PASSWORD), '10.206.0.2')).status).toBe(200)

          const lb = await login(b)
          const batch = (oldPassword: string) =>
            post(
              '/api/batch',
              {
                requests: [
                  {
                    method: 'PATCH',
                    url: `/api/collections/users/records/${lb.record.id}`,
                    body: change(oldPassword),
                  },
                ],
              },
              { authorization: lb.token, 'x-forwarded-for': '10.206.0.3' },
            )
          const batched = []
          for (let i = 0; i < 3; i++) batched.push((await batch(`wrong ${i}`)).status)
          expect(batched).toEqual([400, 400, 400])
          expect(await batch(PASSWORD)).toEqual({ status: 429, body: TOO_MANY })
        } finally {
          await viaProxy(false)
          await configure(DEFAULTS)
          await g.galley.settings.update({ batch: { enabled: false } })
        }
      })
    })
  })
}
