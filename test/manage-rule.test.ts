/**
 * manageRule (pocketbase-api.md §3.6 step 5, §7.1, §7.4): a non-superuser whose request satisfies
 * an auth collection's manageRule against the stored record (update) or the would-be record
 * (create) may change `email` and `verified` directly and set a password without `oldPassword`.
 * Owner, manager, other user, guest and superuser, with exact wire bodies, on SQLite and PostgreSQL.
 *
 * The `members` collection: team leads manage the members of their own team, unless the same
 * request would make someone a lead (`@request.body` is the resolved body).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { call as rest } from './helpers/rest.js'

type Json = Record<string, unknown>

const PASSWORD = 'member password 1'
const NEW_PASSWORD = 'member password 2'
const MANAGE_RULE = '@request.auth.role = "lead" && team = @request.auth.team && @request.body.role != "lead"'
const NOT_FOUND = { status: 404, message: "The requested resource wasn't found.", data: {} }
const mismatch = { code: 'validation_values_mismatch', message: "Values don't match." }
const blank = { code: 'validation_required', message: 'Cannot be blank.' }
const updateFailed = (data: Json) => ({ status: 400, message: 'Failed to update record.', data })
const createFailed = (data: Json) => ({ status: 400, message: 'Failed to create record.', data })
/** A create body for a new member. */
const signup = (email: string, fields: Json) => ({
  email,
  password: PASSWORD,
  passwordConfirm: PASSWORD,
  ...fields,
})

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`manageRule on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley
    let suToken = ''
    /** Tokens of the members by name (refreshed after a password change). */
    const tokens: Record<string, string> = {}
    const ids: Record<string, string> = {}

    const call = (method: string, path: string, token: string | undefined, body?: Json) =>
      rest(running.url, method, path, token, body)
    const signIn = async (email: string, password = PASSWORD) =>
      call('POST', '/api/collections/members/auth-with-password', undefined, { identity: email, password })
    const patch = (who: string | undefined, id: string, body: Json) =>
      call('PATCH', `/api/collections/members/records/${id}`, who ? tokens[who] || who : undefined, body)
    const create = (who: string | undefined, body: Json) =>
      call('POST', '/api/collections/members/records', who ? tokens[who] || who : undefined, body)
    /** The stored record as a superuser sees it. */
    const stored = async (id: string) =>
      (await call('GET', `/api/collections/members/records/${id}`, suToken)).body

    async function addMember(name: string, team: string, role: string) {
      const r = await create(suToken, signup(`${name}@example.com`, { team, role }))
      expect(r.status).toBe(200)
      ids[name] = r.body.id as string
      const auth = await signIn(`${name}@example.com`)
      expect(auth.status).toBe(200)
      tokens[name] = auth.body.token as string
    }

    beforeAll(async () => {
      store = await createStore(kind)
      running = await startGalley(store)
      const su = await running.asSuperuser()
      suToken = su.authStore.token
      await su.collections.create({
        id: 'pbc_members_test',
        name: 'members',
        type: 'auth',
        fields: [
          { name: 'team', type: 'text' },
          { name: 'role', type: 'text' },
          { name: 'mentor', type: 'relation', collectionId: 'pbc_members_test', maxSelect: 1 },
        ],
        listRule: 'team = @request.auth.team',
        viewRule: 'team = @request.auth.team',
        createRule: '',
        updateRule: 'id = @request.auth.id || team = @request.auth.team',
        deleteRule: null,
        manageRule: MANAGE_RULE,
      })
      await addMember('lead', 'a', 'lead')
      await addMember('alice', 'a', 'member')
      await addMember('bob', 'a', 'member')
      await addMember('carol', 'b', 'lead')
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
    })

    describe('the owner (no manager access)', () => {
      it('cannot change their email or verified state directly', async () => {
        const r = await patch('alice', ids.alice!, { email: 'alice2@example.com', verified: true })
        expect(r).toEqual({ status: 400, body: updateFailed({ email: mismatch, verified: mismatch }) })
        expect(await stored(ids.alice!)).toMatchObject({ email: 'alice@example.com', verified: false })
      })

      it('needs the old password to set a new one', async () => {
        const body = { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }
        expect(await patch('alice', ids.alice!, body)).toEqual({
          status: 400,
          body: updateFailed({ oldPassword: blank }),
        })
        expect(await patch('alice', ids.alice!, { ...body, oldPassword: 'wrong one' })).toEqual({
          status: 400,
          body: updateFailed({
            oldPassword: {
              code: 'validation_invalid_old_password',
              message: 'Missing or invalid old password.',
            },
          }),
        })
        expect((await patch('alice', ids.alice!, { ...body, oldPassword: PASSWORD })).status).toBe(200)
        expect((await signIn('alice@example.com', NEW_PASSWORD)).status).toBe(200)
        // back to the shared password (and a fresh token: the change rotated tokenKey)
        const back = await patch(suToken, ids.alice!, { password: PASSWORD, passwordConfirm: PASSWORD })
        expect(back.status).toBe(200)
        tokens.alice = (await signIn('alice@example.com')).body.token as string
      })
    })

    describe('a manager (manageRule holds for the stored record)', () => {
      it('changes email and verified directly', async () => {
        const r = await patch('lead', ids.alice!, { email: 'alice.new@example.com', verified: true })
        expect(r.status).toBe(200)
        expect(await stored(ids.alice!)).toMatchObject({ email: 'alice.new@example.com', verified: true })
        // the email change rotated tokenKey: alice's old token no longer authenticates her
        expect((await patch('alice', ids.alice!, { role: 'member' })).status).toBe(404)
        const again = await signIn('alice.new@example.com')
        expect(again.status).toBe(200)
        tokens.alice = again.body.token as string
      })

      it('sets a password without the old one, but still needs passwordConfirm to match', async () => {
        expect(
          await patch('lead', ids.alice!, { password: NEW_PASSWORD, passwordConfirm: 'something else' }),
        ).toEqual({ status: 400, body: updateFailed({ passwordConfirm: mismatch }) })
        expect(await patch('lead', ids.alice!, { password: NEW_PASSWORD })).toEqual({
          status: 400,
          body: updateFailed({ passwordConfirm: blank }),
        })
        const ok = await patch('lead', ids.alice!, { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD })
        expect(ok.status).toBe(200)
        expect((await signIn('alice.new@example.com', NEW_PASSWORD)).status).toBe(200)
        expect((await signIn('alice.new@example.com', PASSWORD)).status).toBe(400)
      })

      it('is judged on the stored record, not on the values being written', async () => {
        // moving alice to team b: the manageRule reads the stored team (a), so the lead still manages
        const r = await patch('lead', ids.alice!, { team: 'b', verified: false })
        expect(r.status).toBe(200)
        expect(await stored(ids.alice!)).toMatchObject({ team: 'b', verified: false })
        // now alice is in team b: this lead fails the updateRule itself
        expect(await patch('lead', ids.alice!, { team: 'a' })).toEqual({ status: 404, body: NOT_FOUND })
        expect((await patch(suToken, ids.alice!, { team: 'a' })).status).toBe(200)
      })

      it('sees the resolved body: a request that makes someone a lead is not managing', async () => {
        expect(await patch('lead', ids.bob!, { verified: true, role: 'lead' })).toEqual({
          status: 400,
          body: updateFailed({ verified: mismatch }),
        })
        expect((await patch('lead', ids.bob!, { verified: true, role: 'deputy' })).status).toBe(200)
        expect(await stored(ids.bob!)).toMatchObject({ verified: true, role: 'deputy' })
      })

      it('on create, is judged on the would-be record (verified seen as false)', async () => {
        const body = (name: string, team: string) => signup(`${name}@example.com`, { team, verified: true })
        const mine = await create('lead', body('dave', 'a'))
        expect(mine.status).toBe(200)
        expect(await stored(mine.body.id as string)).toMatchObject({ team: 'a', verified: true })
        expect(await create('lead', body('erin', 'b'))).toEqual({
          status: 400,
          body: createFailed({ verified: mismatch }),
        })
      })
    })

    it('a create rule joins the stored records of its own collection, not the would-be one', async () => {
      // `@request.auth.role` and the self-relation `mentor` read the members table: the virtual row
      // of the record being created must not stand in for it
      const su = await running.asSuperuser()
      await su.collections.update('members', {
        createRule: '@request.auth.role = "lead" && mentor.role = "lead" && mentor.team = team',
      })
      try {
        const body = (name: string, mentor: string) =>
          signup(`${name}@example.com`, { team: 'a', role: 'member', mentor })
        expect((await create('lead', body('ivan', ids.lead!))).status).toBe(200)
        expect(await create('lead', body('kate', ids.bob!))).toEqual({ status: 400, body: createFailed({}) })
        expect(await create('bob', body('judy', ids.lead!))).toEqual({ status: 400, body: createFailed({}) })
      } finally {
        await su.collections.update('members', { createRule: '' })
      }
    })

    describe('without manager access', () => {
      it('another member of the team passes the updateRule but cannot manage', async () => {
        expect(await patch('bob', ids.alice!, { email: 'x@example.com', verified: true })).toEqual({
          status: 400,
          body: updateFailed({ email: mismatch, verified: mismatch }),
        })
        expect(
          await patch('bob', ids.alice!, { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD }),
        ).toEqual({
          status: 400,
          body: updateFailed({ oldPassword: blank }),
        })
        expect(await create('bob', signup('f@example.com', { verified: true }))).toEqual({
          status: 400,
          body: createFailed({ verified: mismatch }),
        })
      })

      it('a lead of another team fails the updateRule: 404', async () => {
        expect(await patch('carol', ids.alice!, { verified: true })).toEqual({ status: 404, body: NOT_FOUND })
      })

      it('a guest never manages, even where the manageRule would not need auth', async () => {
        expect(await patch(undefined, ids.alice!, { verified: true })).toEqual({
          status: 404,
          body: NOT_FOUND,
        })
        expect(await create(undefined, signup('g@example.com', { verified: true }))).toEqual({
          status: 400,
          body: createFailed({ verified: mismatch }),
        })
        const su = await running.asSuperuser()
        await su.collections.update('members', { manageRule: 'verified = false' })
        try {
          // the rule holds for the would-be record (verified is seen as false), but a guest has no auth
          expect(await create(undefined, signup('g@example.com', { verified: true }))).toEqual({
            status: 400,
            body: createFailed({ verified: mismatch }),
          })
          // an authenticated member with the same rule does manage
          const r = await create('bob', signup('h@example.com', { verified: true }))
          expect(r.status).toBe(200)
          expect(await stored(r.body.id as string)).toMatchObject({ verified: true })
        } finally {
          await su.collections.update('members', { manageRule: MANAGE_RULE })
        }
      })

      it('a superuser always has manager access', async () => {
        const r = await patch(suToken, ids.bob!, {
          email: 'bob.su@example.com',
          verified: false,
          password: NEW_PASSWORD,
          passwordConfirm: NEW_PASSWORD,
        })
        expect(r.status).toBe(200)
        expect(await stored(ids.bob!)).toMatchObject({ email: 'bob.su@example.com', verified: false })
        expect((await signIn('bob.su@example.com', NEW_PASSWORD)).status).toBe(200)
      })

      it('a null manageRule leaves manager access to superusers', async () => {
        const su = await running.asSuperuser()
        await su.collections.update('members', { manageRule: null })
        try {
          expect(await patch('lead', ids.alice!, { verified: true })).toEqual({
            status: 400,
            body: updateFailed({ verified: mismatch }),
          })
        } finally {
          await su.collections.update('members', { manageRule: MANAGE_RULE })
        }
      })
    })

    describe('saving the collection', () => {
      it('refuses an empty manageRule and a manageRule that does not compile', async () => {
        const put = (manageRule: unknown) =>
          call('PATCH', '/api/collections/members', suToken, { manageRule })
        expect(await put('')).toEqual({
          status: 400,
          body: {
            status: 400,
            message: 'Failed to update collection.',
            data: {
              manageRule: { code: 'validation_nil_or_not_empty_required', message: 'Cannot be blank.' },
            },
          },
        })
        expect(await put('@request.auth.role = "lead" && tem = @request.auth.team')).toEqual({
          status: 400,
          body: {
            status: 400,
            message: 'Failed to update collection.',
            data: {
              manageRule: {
                code: 'validation_invalid_rule',
                message: 'Invalid rule. Raw error: unknown field "tem" at 31.',
              },
            },
          },
        })
        expect((await call('GET', '/api/collections/members', suToken)).body.manageRule).toBe(MANAGE_RULE)
      })
    })
  })
}
