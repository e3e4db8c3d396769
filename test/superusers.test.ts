import { decodeJwt, decodeProtectedHeader } from 'jose'
import { ClientResponseError } from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../src/auth/index.js'
import { newRecordId, nowDateTime, randomString } from '../src/lib/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { runCli } from './helpers/process.js'

const SUPERUSERS_ID = 'pbc_3142635823'
const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/
const RECORD_KEYS = [
  'collectionId',
  'collectionName',
  'created',
  'email',
  'emailVisibility',
  'id',
  'updated',
  'verified',
]
const AUTH_FAILED = { status: 400, message: 'Failed to authenticate.', data: {} }
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

// Accounts the CLI manages in these tests (the helper's SU_EMAIL is left out on purpose).
const ALICE = 'alice@example.com'
const BOB = 'bob@example.com'
const CAROL = 'carol@example.com'

async function call(
  url: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {}
  if (opts.token !== undefined) headers.authorization = opts.token
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(url + path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) }
}

const login = (url: string, collection: string, identity: unknown, password: unknown) =>
  call(url, 'POST', `/api/collections/${collection}/auth-with-password`, { body: { identity, password } })

async function tokenOf(url: string, collection: string, identity: string, password: string): Promise<string> {
  const r = await login(url, collection, identity, password)
  expect(r.status).toBe(200)
  return (r.body as { token: string }).token
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`superusers on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley | undefined
    const target = () => (store.dbUrl ? ['--dir', store.dir, '--db', store.dbUrl] : ['--dir', store.dir])
    const su = async (...args: string[]) => {
      const r = await runCli(['superuser', ...args, ...target()])
      return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() }
    }
    const server = () => {
      if (!running) throw new Error('server not started')
      return running
    }

    beforeAll(async () => {
      store = await createStore(kind)
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
    })

    describe('the CLI (npx galley superuser …)', () => {
      it('upsert creates, then updates the password of the same account', async () => {
        expect(await su('upsert', ALICE, 'first password')).toEqual({
          code: 0,
          out: `Superuser ${ALICE} created.`,
          err: '',
        })
        expect(await su('upsert', ALICE, 'second password')).toEqual({
          code: 0,
          out: `Superuser ${ALICE} updated.`,
          err: '',
        })
      })

      it('create refuses an existing email with exit 1 and one line', async () => {
        expect(await su('create', ALICE, 'another password')).toEqual({
          code: 1,
          out: '',
          err: `A superuser with email ${ALICE} already exists.`,
        })
      })

      it('delete refuses to delete the only superuser', async () => {
        expect(await su('delete', ALICE)).toEqual({
          code: 1,
          out: '',
          err: "You can't delete the only existing superuser.",
        })
      })

      it('create and delete a second superuser; a missing one is reported, not an error', async () => {
        expect(await su('create', BOB, 'bob password')).toEqual({
          code: 0,
          out: `Superuser ${BOB} created.`,
          err: '',
        })
        expect(await su('delete', BOB)).toEqual({ code: 0, out: `Superuser ${BOB} deleted.`, err: '' })
        expect(await su('delete', BOB)).toEqual({ code: 0, out: `No superuser ${BOB}.`, err: '' })
      })

      it('invalid email or a 7-character password: exit 1 with one clear line, nothing created', async () => {
        for (const email of ['not-an-email', 'a@b', 'a b@example.com', '@example.com']) {
          expect(await su('upsert', email, 'long enough password')).toEqual({
            code: 1,
            out: '',
            err: 'Invalid superuser data. email: Must be a valid email address.',
          })
        }
        expect(await su('upsert', CAROL, '7-chars')).toEqual({
          code: 1,
          out: '',
          err: 'Invalid superuser data. password: The length must be between 8 and 71.',
        })
        expect(await su('create', CAROL, 'x'.repeat(72))).toMatchObject({ code: 1 })
        // Carol was never created: deleting her only reports it.
        expect(await su('delete', CAROL)).toEqual({ code: 0, out: `No superuser ${CAROL}.`, err: '' })
      })

      it('missing or unknown arguments: exit 2 with the usage line', async () => {
        for (const args of [
          [],
          ['upsert'],
          ['upsert', ALICE],
          ['create', ALICE],
          ['delete'],
          ['nope', ALICE],
          ['install-link', ALICE],
        ]) {
          const r = await su(...args)
          expect(r.code, args.join(' ')).toBe(2)
          expect(r.err).toBe(
            'usage: galley superuser upsert|create EMAIL PASSWORD, galley superuser delete EMAIL, or galley superuser install-link',
          )
        }
      })
    })

    describe('signing in over HTTP', () => {
      let aliceToken: string

      beforeAll(async () => {
        running = await startGalley(store)
      })

      it('authWithPassword (SDK) returns {token, record} with the record shape and no secrets', async () => {
        const pb = server().sdk()
        const res = await pb.collection('_superusers').authWithPassword(ALICE, 'second password')
        expect(Object.keys(res).sort()).toEqual(['record', 'token'])
        const record = res.record
        expect(Object.keys(record).sort()).toEqual(RECORD_KEYS)
        expect(record).toMatchObject({
          collectionId: SUPERUSERS_ID,
          collectionName: '_superusers',
          email: ALICE,
          emailVisibility: false,
          verified: true,
        })
        expect(record.id).toMatch(/^[a-z0-9]{15}$/)
        expect(record.created).toMatch(DATE)
        expect(record.updated).toMatch(DATE)
        expect(pb.authStore.isValid).toBe(true)
        expect(pb.authStore.isSuperuser).toBe(true)

        // The raw body: exactly token and record, nothing hidden leaks anywhere in it.
        const raw = await login(server().url, '_superusers', ALICE, 'second password')
        expect(raw.status).toBe(200)
        expect(Object.keys(raw.body as object).sort()).toEqual(['record', 'token'])
        const text = JSON.stringify(raw.body)
        expect(text).not.toMatch(/password|tokenKey|\$argon2/)
        aliceToken = (raw.body as { token: string }).token
      })

      it('the token is an HS256 JWT with exactly id, collectionId, type, refreshable and a 1-day exp', async () => {
        expect(decodeProtectedHeader(aliceToken)).toEqual({ alg: 'HS256', typ: 'JWT' })
        const claims = decodeJwt(aliceToken)
        expect(Object.keys(claims).sort()).toEqual(['collectionId', 'exp', 'id', 'refreshable', 'type'])
        expect(claims).toMatchObject({ collectionId: SUPERUSERS_ID, type: 'auth', refreshable: true })
        const now = Math.floor(Date.now() / 1000)
        expect(claims.exp).toBeGreaterThanOrEqual(now + 86_400 - 5)
        expect(claims.exp).toBeLessThanOrEqual(now + 86_400 + 1)
        expect((await call(server().url, 'GET', '/api/collections', { token: aliceToken })).status).toBe(200)
      })

      it('authRefresh issues a new valid token for the same record', async () => {
        await sleep(1100) // exp has one-second resolution: a later token must differ
        const pb = server().sdk()
        pb.authStore.save(aliceToken, null)
        const res = await pb.collection('_superusers').authRefresh()
        expect(Object.keys(res).sort()).toEqual(['record', 'token'])
        expect(res.token).not.toBe(aliceToken)
        expect(decodeJwt(res.token).exp).toBeGreaterThan(decodeJwt(aliceToken).exp!)
        expect(decodeJwt(res.token).id).toBe(decodeJwt(aliceToken).id)
        expect(Object.keys(res.record).sort()).toEqual(RECORD_KEYS)
        expect(res.record.email).toBe(ALICE)
        expect((await call(server().url, 'GET', '/api/collections', { token: res.token })).status).toBe(200)
        // The old token stays valid until it expires (stateless tokens, as in PocketBase).
        expect((await call(server().url, 'GET', '/api/collections', { token: aliceToken })).status).toBe(200)
      })

      it('wrong password and unknown email give the same 400', async () => {
        const wrong = await login(server().url, '_superusers', ALICE, 'wrong password')
        const unknown = await login(server().url, '_superusers', 'nobody@example.com', 'second password')
        expect(wrong).toEqual({ status: 400, body: AUTH_FAILED })
        expect(unknown).toEqual({ status: 400, body: AUTH_FAILED })
        // The SDK surfaces the same error.
        const err = await server()
          .sdk()
          .collection('_superusers')
          .authWithPassword(ALICE, 'wrong password')
          .catch((e: unknown) => e)
        expect(err).toBeInstanceOf(ClientResponseError)
        expect((err as ClientResponseError).status).toBe(400)
        expect((err as ClientResponseError).response).toEqual(AUTH_FAILED)
      })

      it('a numeric password sent as a form value (inferred as a number) still signs in', async () => {
        await server().galley.superusers.create('digits@example.com', '12345678901234')
        for (const type of ['urlencoded', 'multipart'] as const) {
          const form = new FormData()
          form.append('identity', 'digits@example.com')
          form.append('password', '12345678901234')
          const body =
            type === 'multipart'
              ? form
              : new URLSearchParams({ identity: 'digits@example.com', password: '12345678901234' })
          const res = await fetch(`${server().url}/api/collections/_superusers/auth-with-password`, {
            method: 'POST',
            body,
          })
          expect(res.status, type).toBe(200)
          expect(((await res.json()) as { record: { email: string } }).record.email).toBe(
            'digits@example.com',
          )
        }
      })

      it('missing identity or password: 400 with per-field data', async () => {
        const blank = { code: 'validation_required', message: 'Cannot be blank.' }
        const message = 'An error occurred while validating the submitted data.'
        expect(
          await call(server().url, 'POST', '/api/collections/_superusers/auth-with-password', { body: {} }),
        ).toEqual({ status: 400, body: { status: 400, message, data: { identity: blank, password: blank } } })
        expect(await login(server().url, '_superusers', ALICE, '')).toEqual({
          status: 400,
          body: { status: 400, message, data: { password: blank } },
        })
        expect(await login(server().url, '_superusers', 42, 'second password')).toEqual({
          status: 400,
          body: { status: 400, message, data: { identity: blank } },
        })
      })

      it('a password change with `superuser upsert` revokes every older token', async () => {
        const before = await tokenOf(server().url, '_superusers', ALICE, 'second password')
        expect((await call(server().url, 'GET', '/api/collections', { token: before })).status).toBe(200)
        expect(await su('upsert', ALICE, 'third password')).toMatchObject({ code: 0 })
        for (const old of [before, aliceToken]) {
          expect(await call(server().url, 'GET', '/api/collections', { token: old })).toEqual({
            status: 401,
            body: UNAUTHORIZED,
          })
          expect(
            await call(server().url, 'POST', '/api/collections/_superusers/auth-refresh', { token: old }),
          ).toEqual({ status: 401, body: UNAUTHORIZED })
        }
        expect(await login(server().url, '_superusers', ALICE, 'second password')).toEqual({
          status: 400,
          body: AUTH_FAILED,
        })
        const after = await tokenOf(server().url, '_superusers', ALICE, 'third password')
        expect((await call(server().url, 'GET', '/api/collections', { token: after })).status).toBe(200)
      })

      it('after `superuser delete`, that superuser’s token stops working', async () => {
        expect(await su('upsert', BOB, 'bob password')).toMatchObject({
          code: 0,
          out: `Superuser ${BOB} created.`,
        })
        const bob = await tokenOf(server().url, '_superusers', BOB, 'bob password')
        expect((await call(server().url, 'GET', '/api/collections', { token: bob })).status).toBe(200)
        expect(await su('delete', BOB)).toEqual({ code: 0, out: `Superuser ${BOB} deleted.`, err: '' })
        expect(await call(server().url, 'GET', '/api/collections', { token: bob })).toEqual({
          status: 401,
          body: UNAUTHORIZED,
        })
        expect(
          await call(server().url, 'POST', '/api/collections/_superusers/auth-refresh', { token: bob }),
        ).toEqual({ status: 401, body: UNAUTHORIZED })
        expect(await login(server().url, '_superusers', BOB, 'bob password')).toEqual({
          status: 400,
          body: AUTH_FAILED,
        })
      })

      it('auth routes on a non-auth or unknown collection: 404 (Appendix E)', async () => {
        const body = { identity: ALICE, password: 'third password' }
        expect(
          await call(server().url, 'POST', '/api/collections/_mfas/auth-with-password', { body }),
        ).toEqual({
          status: 404,
          body: { status: 404, message: 'Missing or invalid auth collection context.', data: {} },
        })
        for (const path of [
          '/api/collections/nope/auth-with-password',
          '/api/collections/nope/auth-refresh',
        ]) {
          expect(await call(server().url, 'POST', path, { body })).toEqual({
            status: 404,
            body: { status: 404, message: 'Missing or invalid collection context.', data: {} },
          })
        }
        // By id as well as by name.
        expect((await login(server().url, SUPERUSERS_ID, ALICE, 'third password')).status).toBe(200)
      })

      it('auth-refresh: 401 without a token', async () => {
        expect(await call(server().url, 'POST', '/api/collections/_superusers/auth-refresh')).toEqual({
          status: 401,
          body: UNAUTHORIZED,
        })
      })

      it('/api/health shows canBackup and realIP to superusers only', async () => {
        const token = await tokenOf(server().url, '_superusers', ALICE, 'third password')
        const su = await call(server().url, 'GET', '/api/health', { token })
        expect(su.status).toBe(200)
        expect(su.body).toMatchObject({ message: 'API is healthy.', code: 200 })
        const data = (su.body as { data: Record<string, unknown> }).data
        expect(Object.keys(data).sort()).toEqual(['canBackup', 'possibleProxyHeader', 'realIP'])
        expect(typeof data.canBackup).toBe('boolean')
        expect(data.realIP).toBe('127.0.0.1')
        expect(data.possibleProxyHeader).toBe('')
        expect(await call(server().url, 'GET', '/api/health')).toEqual({
          status: 200,
          body: { message: 'API is healthy.', code: 200, data: {} },
        })
      })

      describe('a users record', () => {
        const email = 'user@example.com'
        const password = 'user password 1'
        let userId: string
        let userToken: string

        beforeAll(async () => {
          const { galley } = server()
          const d = galley.database.dialect
          userId = newRecordId()
          const now = nowDateTime()
          await galley.database.db
            .insertInto('users')
            .values({
              id: userId,
              email,
              password: await hashPassword(password),
              tokenKey: randomString(50),
              emailVisibility: d.encode('bool', false),
              verified: d.encode('bool', false),
              name: 'Uma',
              created: now,
              updated: now,
            })
            .execute()
        })

        it('signs in to users with its own record shape', async () => {
          const pb = server().sdk()
          const res = await pb.collection('users').authWithPassword(email, password)
          userToken = res.token
          expect(res.record).toEqual({
            collectionId: '_pb_users_auth_',
            collectionName: 'users',
            id: userId,
            email,
            emailVisibility: false,
            verified: false,
            name: 'Uma',
            avatar: '',
            created: expect.stringMatching(DATE) as unknown,
            updated: expect.stringMatching(DATE) as unknown,
          })
          const claims = decodeJwt(userToken)
          expect(claims).toMatchObject({ id: userId, collectionId: '_pb_users_auth_', type: 'auth' })
          // users keep the 5-day default of new auth collections.
          const now = Math.floor(Date.now() / 1000)
          expect(claims.exp).toBeGreaterThanOrEqual(now + 432_000 - 5)
          expect(claims.exp).toBeLessThanOrEqual(now + 432_000 + 1)
          // A users account cannot sign in as a superuser.
          expect(await login(server().url, '_superusers', email, password)).toEqual({
            status: 400,
            body: AUTH_FAILED,
          })
        })

        it('its token gets 403 on superuser routes and plain health data', async () => {
          for (const [method, path] of [
            ['GET', '/api/collections'],
            ['GET', '/api/settings'],
            ['PATCH', '/api/settings'],
          ] as const) {
            const body = method === 'PATCH' ? { meta: { appName: 'Hijacked' } } : undefined
            expect(await call(server().url, method, path, { token: userToken, body }), path).toEqual({
              status: 403,
              body: NOT_ALLOWED,
            })
          }
          expect(server().galley.settings.get().meta.appName).not.toBe('Hijacked')
          expect(await call(server().url, 'GET', '/api/health', { token: userToken })).toEqual({
            status: 200,
            body: { message: 'API is healthy.', code: 200, data: {} },
          })
        })

        it('refreshes in its own collection; in _superusers it gets 403 naming its collection', async () => {
          const own = await call(server().url, 'POST', '/api/collections/users/auth-refresh', {
            token: userToken,
          })
          expect(own.status).toBe(200)
          expect((own.body as { record: { id: string } }).record.id).toBe(userId)
          expect(
            await call(server().url, 'POST', '/api/collections/_superusers/auth-refresh', {
              token: userToken,
            }),
          ).toEqual({
            status: 403,
            body: {
              status: 403,
              message: 'The request requires auth record from users collection.',
              data: {},
            },
          })
          const suToken = await tokenOf(server().url, '_superusers', ALICE, 'third password')
          expect(
            await call(server().url, 'POST', '/api/collections/users/auth-refresh', { token: suToken }),
          ).toEqual({
            status: 403,
            body: {
              status: 403,
              message: 'The request requires auth record from _superusers collection.',
              data: {},
            },
          })
        })
      })
    })
  })
}
