/**
 * Several auth collections side by side (issue 4): rules over `@request.auth.*` for each one's
 * records, refresh bound to its collection, revocation (delete, password and email change, secret
 * change), login alerts through a real SMTP server, impersonation through the SDK, and the auth
 * options' bounds.
 */
import { decodeJwt } from 'jose'
import PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_AUTH_ORIGINS, MAX_IMPERSONATE_DURATION } from '../src/auth/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js'

const PASSWORD = 'a long enough password'
const UNAUTHORIZED = {
  status: 401,
  message: 'The request requires valid record authorization token.',
  data: {},
}
const NOT_ALLOWED = {
  status: 403,
  message: 'The authorized record is not allowed to perform this action.',
  data: {},
}
const ALERT_TEMPLATE = {
  subject: 'New sign-in to {APP_NAME}',
  body: '<p>Hello {RECORD:name}{RECORD:username},</p><p><em>{ALERT_INFO}</em></p>',
}

interface Reply {
  status: number
  body: Record<string, unknown>
}

/** One request with exact control of the headers (user agent, Authorization) and the raw reply. */
async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; userAgent?: string; raw?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {}
  if (opts.token !== undefined) headers.authorization = opts.token
  if (opts.userAgent !== undefined) headers['user-agent'] = opts.userAgent
  let body: string | undefined
  if (opts.raw !== undefined || opts.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = opts.raw ?? JSON.stringify(opts.body)
  }
  const res = await fetch(base + path, { method, headers, body, signal: AbortSignal.timeout(15_000) })
  const text = await res.text()
  return { status: res.status, body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> }
}

const ids = (items: { id: string }[]) => items.map((r) => r.id).sort()

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`auth collections on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let sink: SmtpSink
    let su: PocketBase
    let staffId: string
    /** Record ids by name. */
    const who: Record<string, string> = {}

    const login = (
      collection: string,
      identity: string,
      opts: { userAgent?: string; password?: string } = {},
    ) =>
      call(g.url, 'POST', `/api/collections/${collection}/auth-with-password`, {
        body: { identity, password: opts.password ?? PASSWORD },
        userAgent: opts.userAgent,
      })
    const tokenOf = async (collection: string, identity: string, userAgent = 'test-agent') => {
      const r = await login(collection, identity, { userAgent })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return r.body.token as string
    }
    const refresh = (collection: string, token: string) =>
      call(g.url, 'POST', `/api/collections/${collection}/auth-refresh`, { token })
    const listDocs = async (token?: string) => {
      const r = await call(g.url, 'GET', '/api/collections/docs/records?perPage=100', { token })
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return ids(r.body.items as { id: string }[])
    }

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      sink = await startSmtpSink()
      su = await g.asSuperuser()
      await su.settings.update({ smtp: sink.smtpSettings(), meta: { appName: 'Acme' } })

      const staff = await su.collections.create({
        name: 'staff',
        type: 'auth',
        fields: [
          { name: 'username', type: 'text', max: 50 },
          { name: 'level', type: 'number' },
        ],
        indexes: ['CREATE UNIQUE INDEX idx_staff_username ON staff (username)'],
        passwordAuth: { enabled: true, identityFields: ['email', 'username'] },
        authAlert: { enabled: true, emailTemplate: ALERT_TEMPLATE },
        listRule: '',
        viewRule: '',
        updateRule: 'id = @request.auth.id',
      })
      staffId = staff.id
      await su.collections.update('users', { authAlert: { enabled: true, emailTemplate: ALERT_TEMPLATE } })

      const create = async (collection: string, key: string, data: Record<string, unknown>) => {
        const r = await su
          .collection(collection)
          .create({ password: PASSWORD, passwordConfirm: PASSWORD, ...data })
        who[key] = r.id
      }
      await create('users', 'alice', { email: 'alice@example.com', name: 'Alice' })
      await create('users', 'bob', { email: 'bob@example.com', name: 'Bob' })
      await create('staff', 'boss', { email: 'boss@example.com', username: 'boss', level: 5 })
      await create('staff', 'clerk', { email: 'clerk@example.com', username: 'clerk', level: 1 })

      await su.collections.create({
        name: 'docs',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'owner', type: 'text' },
        ],
        listRule: null,
        viewRule: null,
      })
      for (const owner of ['alice', 'bob', 'boss', 'clerk']) {
        const r = await su.collection('docs').create({ title: `${owner}'s`, owner: who[owner] })
        who[`doc:${owner}`] = r.id
      }
    })
    afterAll(async () => {
      await g?.close()
      await sink?.close()
      await store?.cleanup()
    })

    describe('rules over @request.auth.* of two auth collections', () => {
      const docsOf = (...owners: string[]) => owners.map((o) => who[`doc:${o}`]!).sort()
      let tokens: Record<string, string>
      beforeAll(async () => {
        tokens = {
          alice: await tokenOf('users', 'alice@example.com'),
          bob: await tokenOf('users', 'bob@example.com'),
          boss: await tokenOf('staff', 'boss'),
          clerk: await tokenOf('staff', 'clerk@example.com'),
        }
      })
      const seen = async (rule: string) => {
        await su.collections.update('docs', { listRule: rule, viewRule: rule })
        const out: Record<string, string[]> = { guest: await listDocs() }
        for (const [name, token] of Object.entries(tokens)) out[name] = await listDocs(token)
        return out
      }

      it('@request.auth.id matches the records of either collection', async () => {
        expect(await seen('owner = @request.auth.id')).toEqual({
          guest: [],
          alice: docsOf('alice'),
          bob: docsOf('bob'),
          boss: docsOf('boss'),
          clerk: docsOf('clerk'),
        })
      })

      it('@request.auth.collectionName and collectionId tell the collections apart', async () => {
        const all = docsOf('alice', 'bob', 'boss', 'clerk')
        const staffOnly = { guest: [], alice: [], bob: [], boss: all, clerk: all }
        expect(await seen('@request.auth.collectionName = "staff"')).toEqual(staffOnly)
        expect(await seen(`@request.auth.collectionId = "${staffId}"`)).toEqual(staffOnly)
        expect(await seen('@request.auth.collectionName = "users"')).toEqual({
          guest: [],
          alice: all,
          bob: all,
          boss: [],
          clerk: [],
        })
      })

      it("a field of one collection counts for its records and never for the other's", async () => {
        const all = docsOf('alice', 'bob', 'boss', 'clerk')
        expect(await seen('@request.auth.level >= 3')).toEqual({
          guest: [],
          alice: [],
          bob: [],
          boss: all,
          clerk: [],
        })
        expect(await seen('@request.auth.name = "Alice"')).toEqual({
          guest: [],
          alice: all,
          bob: [],
          boss: [],
          clerk: [],
        })
        expect(await seen('@request.auth.username = "clerk" && owner = @request.auth.id')).toEqual({
          guest: [],
          alice: [],
          bob: [],
          boss: [],
          clerk: docsOf('clerk'),
        })
      })

      it('the view rule is the same decision: 404 for the other collection', async () => {
        await su.collections.update('docs', { viewRule: '@request.auth.level >= 3' })
        const path = `/api/collections/docs/records/${who['doc:alice']}`
        expect((await call(g.url, 'GET', path, { token: tokens.boss })).status).toBe(200)
        expect((await call(g.url, 'GET', path, { token: tokens.alice })).status).toBe(404)
        expect((await call(g.url, 'GET', path, { token: tokens.clerk })).status).toBe(404)
      })

      it('a token refreshes only on its own collection (403 on the other), never as a superuser', async () => {
        expect(await refresh('staff', tokens.alice!)).toEqual({
          status: 403,
          body: { status: 403, message: 'The request requires auth record from users collection.', data: {} },
        })
        expect(await refresh('users', tokens.boss!)).toEqual({
          status: 403,
          body: { status: 403, message: 'The request requires auth record from staff collection.', data: {} },
        })
        expect((await refresh('_superusers', tokens.boss!)).status).toBe(403)
        for (const t of [tokens.alice!, tokens.boss!])
          expect(await call(g.url, 'GET', '/api/collections', { token: t })).toEqual({
            status: 403,
            body: NOT_ALLOWED,
          })
        const r = await refresh('staff', tokens.boss!)
        expect(r.status).toBe(200)
        expect((r.body.record as { id: string }).id).toBe(who.boss)
      })

      it('identityFields: staff sign in by username too, users only by email', async () => {
        expect((await login('staff', 'boss')).status).toBe(200)
        expect(
          (
            await call(g.url, 'POST', '/api/collections/staff/auth-with-password', {
              body: { identity: 'boss', password: PASSWORD, identityField: 'username' },
            })
          ).status,
        ).toBe(200)
        // Not an identity field of users: no lookup by name, the generic failure.
        expect(await login('users', 'Alice')).toEqual({
          status: 400,
          body: { status: 400, message: 'Failed to authenticate.', data: {} },
        })
        const r = await call(g.url, 'POST', '/api/collections/users/auth-with-password', {
          body: { identity: 'Alice', password: PASSWORD, identityField: 'name' },
        })
        expect(r.status).toBe(400)
        expect(r.body.data).toMatchObject({ identityField: { code: 'validation_in_invalid' } })
      })
    })

    describe('revocation', () => {
      const newUser = async (collection: string, email: string, extra: Record<string, unknown> = {}) => {
        const r = await su
          .collection(collection)
          .create({ email, password: PASSWORD, passwordConfirm: PASSWORD, ...extra })
        return r.id
      }

      it('deleting a user makes its token a guest on the very next request', async () => {
        await su.collections.update('docs', { listRule: '@request.auth.id != ""' })
        const id = await newUser('users', 'gone@example.com')
        const token = await tokenOf('users', 'gone@example.com')
        expect((await listDocs(token)).length).toBe(4)
        expect((await refresh('users', token)).status).toBe(200)
        await su.collection('users').delete(id)
        expect(await listDocs(token)).toEqual([])
        expect(await refresh('users', token)).toEqual({ status: 401, body: UNAUTHORIZED })
      })

      it('a password change by the user rotates tokenKey: every earlier token is refused', async () => {
        const id = await newUser('staff', 'pw@example.com', { username: 'pw' })
        const first = await tokenOf('staff', 'pw')
        const second = await tokenOf('staff', 'pw@example.com')
        const pb = new PocketBase(g.url)
        pb.authStore.save(first)
        await pb.collection('staff').update(id, {
          oldPassword: PASSWORD,
          password: 'another long password',
          passwordConfirm: 'another long password',
        })
        for (const t of [first, second])
          expect(await refresh('staff', t)).toEqual({ status: 401, body: UNAUTHORIZED })
        expect((await login('staff', 'pw', { password: 'another long password' })).status).toBe(200)
      })

      it('a password or email change by a superuser rotates tokenKey too', async () => {
        const id = await newUser('users', 'mail1@example.com')
        const before = await tokenOf('users', 'mail1@example.com')
        await su.collection('users').update(id, { email: 'mail2@example.com' })
        expect(await refresh('users', before)).toEqual({ status: 401, body: UNAUTHORIZED })
        const afterEmail = await tokenOf('users', 'mail2@example.com')
        await su
          .collection('users')
          .update(id, { password: 'third long password', passwordConfirm: 'third long password' })
        expect(await refresh('users', afterEmail)).toEqual({ status: 401, body: UNAUTHORIZED })
        // Other fields leave the tokens alone.
        const r = await login('users', 'mail2@example.com', { password: 'third long password' })
        expect(r.status).toBe(200)
        await su.collection('users').update(id, { name: 'Renamed', emailVisibility: true, verified: true })
        expect((await refresh('users', r.body.token as string)).status).toBe(200)
      })

      it('a new authToken.secret signs every staff member out and no user', async () => {
        const boss = await tokenOf('staff', 'boss')
        const alice = await tokenOf('users', 'alice@example.com')
        await su.collections.update('staff', { authToken: { secret: 'n'.repeat(30) } })
        expect(await refresh('staff', boss)).toEqual({ status: 401, body: UNAUTHORIZED })
        expect((await refresh('users', alice)).status).toBe(200)
        // A duration change alone keeps the secret, so tokens stay valid.
        const again = await tokenOf('staff', 'boss')
        await su.collections.update('staff', { authToken: { duration: 7200 } })
        const r = await refresh('staff', again)
        expect(r.status).toBe(200)
        const claims = decodeJwt(r.body.token as string)
        expect(claims.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(7190)
        expect(claims.exp! - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(7200)
      })
    })

    describe('login alerts (real SMTP)', () => {
      const origins = async (recordId: string) =>
        g.galley.database.db
          .selectFrom('_authOrigins')
          .select(['fingerprint', 'collectionRef'])
          .where('recordRef', '=', recordId)
          .execute()
      const signIn = async (collection: string, email: string, userAgent: string) => {
        const r = await login(collection, email, { userAgent })
        expect(r.status, JSON.stringify(r.body)).toBe(200)
        await g.galley.mail.idle()
        return r.body.token as string
      }

      it('first sign-in: no mail; same client: no mail; a new user agent: one mail with ALERT_INFO', async () => {
        const email = 'alerted@example.com'
        const rec = await su
          .collection('users')
          .create({ email, name: 'Al <b>', password: PASSWORD, passwordConfirm: PASSWORD })
        await signIn('users', email, 'Agent/1')
        expect(sink.to(email)).toHaveLength(0)
        expect(await origins(rec.id)).toHaveLength(1)
        await signIn('users', email, 'Agent/1')
        expect(sink.to(email)).toHaveLength(0)
        expect(await origins(rec.id)).toHaveLength(1)

        await signIn('users', email, 'Agent/2 <script>alert(1)</script>')
        expect(sink.to(email)).toHaveLength(1)
        const mail = sink.to(email)[0]!
        expect(mail.subject).toBe('New sign-in to Acme')
        expect(mail.html).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC, IP 127\.0\.0\.1, Agent\/2 /)
        expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
        expect(mail.html).not.toContain('<script>')
        expect(mail.html).toContain('Hello Al &lt;b&gt;')
        expect(await origins(rec.id)).toEqual(
          expect.arrayContaining([
            { fingerprint: expect.stringMatching(/^[0-9a-f]{32}$/), collectionRef: '_pb_users_auth_' },
          ]),
        )
        // Back to a known client: nothing more.
        await signIn('users', email, 'Agent/1')
        expect(sink.to(email)).toHaveLength(1)
      })

      it(`keeps the last ${MAX_AUTH_ORIGINS} origins of a record; only that record's`, async () => {
        const email = 'many@example.com'
        const rec = await su
          .collection('staff')
          .create({ email, username: 'many', password: PASSWORD, passwordConfirm: PASSWORD })
        for (let i = 0; i < MAX_AUTH_ORIGINS + 3; i++) await signIn('staff', 'many', `Device/${i}`)
        expect(await origins(rec.id)).toHaveLength(MAX_AUTH_ORIGINS)
        expect(sink.to(email)).toHaveLength(MAX_AUTH_ORIGINS + 2)
        expect((await origins(who.boss!)).length).toBeLessThanOrEqual(MAX_AUTH_ORIGINS)
        // The most recent ones are kept: the last device is known, the first one is new again.
        await signIn('staff', 'many', `Device/${MAX_AUTH_ORIGINS + 2}`)
        expect(sink.to(email)).toHaveLength(MAX_AUTH_ORIGINS + 2)
        await signIn('staff', 'many', 'Device/0')
        expect(sink.to(email)).toHaveLength(MAX_AUTH_ORIGINS + 3)
      })

      it('disabled authAlert: no mail and no origin; refresh and impersonation never alert', async () => {
        const email = 'quiet@example.com'
        const rec = await su
          .collection('users')
          .create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
        const token = await signIn('users', email, 'Quiet/1')
        await refresh('users', token)
        const imp = await call(g.url, 'POST', `/api/collections/users/impersonate/${rec.id}`, {
          token: su.authStore.token,
          userAgent: 'Impersonator/1',
        })
        expect(imp.status).toBe(200)
        await refresh('users', imp.body.token as string)
        await g.galley.mail.idle()
        expect(sink.to(email)).toHaveLength(0)
        expect(await origins(rec.id)).toHaveLength(1)

        await su.collections.update('users', { authAlert: { enabled: false } })
        try {
          await signIn('users', email, 'Quiet/2')
          expect(sink.to(email)).toHaveLength(0)
          expect(await origins(rec.id)).toHaveLength(1)
        } finally {
          await su.collections.update('users', { authAlert: { enabled: true } })
        }
      })

      it('a mail server that is down never fails the sign-in', async () => {
        const email = 'smtpdown@example.com'
        await su.collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
        await signIn('users', email, 'Before/1')
        await su.settings.update({ smtp: { ...sink.smtpSettings(), port: 1 } })
        try {
          await signIn('users', email, 'After/1')
        } finally {
          await su.settings.update({ smtp: sink.smtpSettings() })
        }
        expect(sink.to(email)).toHaveLength(0)
      })
    })

    describe('impersonation', () => {
      const impersonate = (collection: string, id: string, token: string | undefined, body?: unknown) =>
        call(g.url, 'POST', `/api/collections/${collection}/impersonate/${id}`, { token, body })
      const now = () => Math.floor(Date.now() / 1000)

      it('the SDK gets a client signed in as the record with a non-refreshable token of that life', async () => {
        const client = await su.collection('users').impersonate(who.alice!, 3600)
        expect(client).not.toBe(su)
        expect(client.authStore.record?.id).toBe(who.alice)
        expect(client.authStore.record?.email).toBe('alice@example.com')
        const claims = decodeJwt(client.authStore.token)
        expect(claims).toMatchObject({
          id: who.alice,
          collectionId: '_pb_users_auth_',
          type: 'auth',
          refreshable: false,
        })
        expect(claims.exp! - now()).toBeGreaterThan(3590)
        expect(claims.exp! - now()).toBeLessThanOrEqual(3600)
        // The superuser's own client is untouched.
        expect(su.authStore.record?.collectionName).toBe('_superusers')

        // It acts as Alice.
        await su.collections.update('docs', { listRule: 'owner = @request.auth.id' })
        expect(ids(await client.collection('docs').getFullList())).toEqual([who['doc:alice']])

        // Refresh: the same token, the record read again.
        await su.collection('users').update(who.alice!, { name: 'Alice Refreshed' })
        const token = client.authStore.token
        const r = await client.collection('users').authRefresh()
        expect(r.token).toBe(token)
        expect(r.record.name).toBe('Alice Refreshed')
        await su.collection('users').update(who.alice!, { name: 'Alice' })
      })

      it('duration 0 or absent is the collection default; the bounds are checked', async () => {
        const token = su.authStore.token
        for (const body of [undefined, {}, { duration: 0 }, { duration: null }]) {
          const r = await impersonate('staff', who.clerk!, token, body)
          expect(r.status, JSON.stringify(r.body)).toBe(200)
          const left = decodeJwt(r.body.token as string).exp! - now()
          expect(left).toBeGreaterThan(7190) // staff's authToken.duration was set to 7200 above
          expect(left).toBeLessThanOrEqual(7200)
        }
        const max = await impersonate('staff', who.clerk!, token, { duration: MAX_IMPERSONATE_DURATION })
        expect(max.status).toBe(200)
        expect(decodeJwt(max.body.token as string).exp! - now()).toBeGreaterThan(
          MAX_IMPERSONATE_DURATION - 10,
        )
        for (const [duration, code] of [
          [MAX_IMPERSONATE_DURATION + 1, 'validation_max_less_equal_than_required'],
          [-1, 'validation_min_greater_equal_than_required'],
          [1.5, 'validation_not_integer'],
        ] as const) {
          const r = await impersonate('staff', who.clerk!, token, { duration })
          expect(r.status).toBe(400)
          expect(r.body).toMatchObject({
            message: 'An error occurred while validating the submitted data.',
            data: { duration: { code } },
          })
        }
        for (const raw of ['{"duration":"3600"}', '{"duration":true}', '[]', '"x"', '{"duration":1e400}']) {
          const r = await call(g.url, 'POST', `/api/collections/staff/impersonate/${who.clerk}`, {
            token,
            raw,
          })
          expect(r.status, raw).toBe(400)
          expect(r.body.message, raw).toMatch(/submitted data/)
        }
      })

      it('guests get 401, users and staff 403, before the collection or record is looked up', async () => {
        const alice = await tokenOf('users', 'alice@example.com')
        const boss = await tokenOf('staff', 'boss')
        for (const path of [`users/impersonate/${who.bob}`, 'nope/impersonate/x', 'docs/impersonate/x']) {
          expect(await call(g.url, 'POST', `/api/collections/${path}`)).toEqual({
            status: 401,
            body: UNAUTHORIZED,
          })
          for (const t of [alice, boss])
            expect(await call(g.url, 'POST', `/api/collections/${path}`, { token: t })).toEqual({
              status: 403,
              body: NOT_ALLOWED,
            })
        }
        // An impersonation token of a user is a user, not a superuser.
        const imp = await impersonate('users', who.alice!, su.authStore.token)
        expect((await impersonate('users', who.bob!, imp.body.token as string)).status).toBe(403)
        const guest = new PocketBase(g.url)
        await expect(guest.collection('users').impersonate(who.alice!, 60)).rejects.toMatchObject({
          status: 401,
        })
      })

      it('missing record, unknown or non-auth collection: 404', async () => {
        const token = su.authStore.token
        expect(await impersonate('users', 'doesnotexist123', token)).toEqual({
          status: 404,
          body: { status: 404, message: "The requested resource wasn't found.", data: {} },
        })
        expect(await impersonate('users', who.boss!, token)).toMatchObject({ status: 404 })
        expect((await impersonate('nope', 'x', token)).status).toBe(404)
        expect(await impersonate('docs', who['doc:alice']!, token)).toMatchObject({
          status: 404,
          body: { message: 'Missing or invalid auth collection context.' },
        })
      })

      it('bypasses the authRule (the requester is a superuser), which refresh checks again', async () => {
        await su.collections.update('staff', { authRule: 'level >= 3' })
        try {
          expect((await login('staff', 'clerk')).status).toBe(403)
          const r = await impersonate('staff', who.clerk!, su.authStore.token, { duration: 600 })
          expect(r.status).toBe(200)
          expect(await refresh('staff', r.body.token as string)).toEqual({
            status: 403,
            body: {
              status: 403,
              message: "The request doesn't satisfy the collection requirements to authenticate.",
              data: {},
            },
          })
          const boss = await impersonate('staff', who.boss!, su.authStore.token)
          expect((await refresh('staff', boss.body.token as string)).status).toBe(200)
        } finally {
          await su.collections.update('staff', { authRule: '' })
        }
      })

      it('a superuser can be impersonated (a long-lived API key); the key dies with its tokenKey', async () => {
        const me = su.authStore.record!.id
        const key = await impersonate('_superusers', me, su.authStore.token, { duration: 86_400 * 30 })
        expect(key.status).toBe(200)
        const apiKey = key.body.token as string
        expect((await call(g.url, 'GET', '/api/collections', { token: apiKey })).status).toBe(200)
        const again = await refresh('_superusers', apiKey)
        expect(again.body.token).toBe(apiKey)
        const other = await su.collection('_superusers').create({
          email: 'other-admin@example.com',
          password: PASSWORD,
          passwordConfirm: PASSWORD,
        })
        const otherKey = (await impersonate('_superusers', other.id, su.authStore.token)).body.token as string
        await su
          .collection('_superusers')
          .update(other.id, { password: 'rotated password 1', passwordConfirm: 'rotated password 1' })
        expect(await refresh('_superusers', otherKey)).toEqual({ status: 401, body: UNAUTHORIZED })
        expect(await call(g.url, 'GET', '/api/collections', { token: otherKey })).toEqual({
          status: 401,
          body: UNAUTHORIZED,
        })
      })

      it('?expand= and ?fields= apply to the impersonation response', async () => {
        const r = await call(
          g.url,
          'POST',
          `/api/collections/users/impersonate/${who.alice}?fields=token,record.id`,
          {
            token: su.authStore.token,
          },
        )
        expect(r.status).toBe(200)
        expect(Object.keys(r.body).sort()).toEqual(['record', 'token'])
        expect(r.body.record).toEqual({ id: who.alice })
      })
    })

    describe('auth options: bounds and enforcement', () => {
      const patch = (body: Record<string, unknown>) =>
        call(g.url, 'PATCH', '/api/collections/staff', { token: su.authStore.token, body })
      const errorCode = (r: Reply, path: string[]) => {
        let v: unknown = r.body.data
        for (const k of path) v = (v as Record<string, unknown> | undefined)?.[k]
        return (v as { code?: string } | undefined)?.code
      }

      it('token secrets: 30 and 255 characters accepted, 29 and 256 refused; never echoed', async () => {
        for (const kind of [
          'authToken',
          'passwordResetToken',
          'emailChangeToken',
          'verificationToken',
          'fileToken',
        ]) {
          for (const [len, ok] of [
            [29, false],
            [30, true],
            [255, true],
            [256, false],
          ] as const) {
            const secret = 'k'.repeat(len)
            const r = await patch({ [kind]: { secret } })
            expect(r.status, `${kind} ${len}`).toBe(ok ? 200 : 400)
            if (ok) expect(JSON.stringify(r.body)).not.toContain(secret)
            else expect(errorCode(r, [kind, 'secret'])).toBe('validation_length_out_of_range')
          }
        }
      })

      it('token durations: 10 s to 94670856 s; limit+1 refused', async () => {
        for (const [duration, ok] of [
          [9, false],
          [10, true],
          [94_670_856, true],
          [94_670_857, false],
          [60.5, false],
        ] as const) {
          const r = await patch({ fileToken: { duration } })
          expect(r.status, String(duration)).toBe(ok ? 200 : 400)
          if (!ok) expect(errorCode(r, ['fileToken', 'duration'])).toBe('validation_out_of_range')
        }
        await patch({ fileToken: { duration: 180 } })
      })

      it('identityFields need a single-column UNIQUE index', async () => {
        const add = await patch({
          fields: [
            ...(await su.collections.getOne('staff')).fields,
            { name: 'badge', type: 'text' },
            { name: 'site', type: 'text' },
          ],
          indexes: [
            ...(await su.collections.getOne('staff')).indexes,
            "CREATE UNIQUE INDEX idx_staff_badge_site ON staff (badge, site) WHERE badge != ''",
            'CREATE INDEX idx_staff_site ON staff (site)',
          ],
        })
        expect(add.status, JSON.stringify(add.body)).toBe(200)
        for (const field of ['badge', 'site']) {
          const r = await patch({ passwordAuth: { identityFields: ['email', field] } })
          expect(r.status).toBe(400)
          expect(errorCode(r, ['passwordAuth', 'identityFields', '1'])).toBe(
            'validation_missing_unique_constraint',
          )
        }
        const none = await patch({ passwordAuth: { enabled: true, identityFields: [] } })
        expect(errorCode(none, ['passwordAuth', 'identityFields'])).toBe('validation_required')
      })

      it('password length: the field min/max apply, max is capped at 71, sign-in input at 1024', async () => {
        const c = await su.collections.getOne('staff')
        const withPassword = (opts: Record<string, unknown>) =>
          c.fields.map((f) => (f.name === 'password' ? { ...f, ...opts } : f))
        const tooLong = await patch({ fields: withPassword({ max: 72 }) })
        expect(
          errorCode(tooLong, ['fields', String(c.fields.findIndex((f) => f.name === 'password')), 'max']),
        ).toBe('validation_max_less_equal_than_required')
        expect((await patch({ fields: withPassword({ min: 12, max: 20 }) })).status).toBe(200)
        try {
          for (const [password, ok] of [
            ['x'.repeat(11), false],
            ['x'.repeat(12), true],
            ['x'.repeat(20), true],
            ['x'.repeat(21), false],
          ] as const) {
            const r = await call(g.url, 'POST', '/api/collections/staff/records', {
              token: su.authStore.token,
              body: {
                email: `len${password.length}@example.com`,
                username: `len${password.length}`,
                password,
                passwordConfirm: password,
              },
            })
            expect(r.status, JSON.stringify(r.body)).toBe(ok ? 200 : 400)
          }
        } finally {
          await patch({ fields: withPassword({ min: 8, max: 0 }) })
        }
        // At the sign-in cap the password is hashed and simply wrong; one more is refused unhashed.
        expect(await login('staff', 'boss', { password: 'p'.repeat(1024) })).toEqual({
          status: 400,
          body: { status: 400, message: 'Failed to authenticate.', data: {} },
        })
        const over = await login('staff', 'boss', { password: 'p'.repeat(1025) })
        expect(over.status).toBe(400)
        expect(errorCode(over, ['password'])).toBe('validation_required')
      })
    })
  })
}
