/**
 * `POST /api/galley/rules/check` (the dashboard's live rule check): a draft collection's rule is
 * resolved as saving the draft would resolve it (docs/admin.md), superusers only, every input
 * bounded, malformed bodies a 400 and never a 5xx. On SQLite and PostgreSQL.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_FIELDS, MAX_RULE_LENGTH } from '../src/lib/index.js'
import { RULE_CHECK_BODY_LIMIT } from '../src/http/routes/rules-check.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { call } from './helpers/rest.js'

type Json = Record<string, unknown>
const PATH = '/api/galley/rules/check'

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`rule check on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley
    let su = ''
    let postsId = ''

    const check = (body: unknown, token = su) => call(running.url, 'POST', PATH, token, body)
    /** A new draft as the editor holds it before the first save. */
    const draft = (extra: Json = {}): Json => ({
      name: 'drafts',
      type: 'base',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
        { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
      ],
      ...extra,
    })

    beforeAll(async () => {
      store = await createStore(kind)
      running = await startGalley(store)
      su = (await running.asSuperuser()).authStore.token
      const posts = await call(running.url, 'POST', '/api/collections', su, {
        name: 'posts',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'score', type: 'number' },
        ],
      })
      expect(posts.status).toBe(200)
      postsId = posts.body.id as string
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
    })

    it('accepts a valid rule over the draft’s own, unsaved fields', async () => {
      expect(await check({ collection: draft(), rule: 'title ~ "x" && tags:length > 1' })).toEqual({
        status: 200,
        body: { ok: true },
      })
      expect(await check({ collection: draft(), rule: '' })).toEqual({ status: 200, body: { ok: true } })
    })

    it('reports a syntax error with its position', async () => {
      expect(await check({ collection: draft(), rule: 'title = "a" &&' })).toEqual({
        status: 200,
        body: {
          ok: false,
          message: expect.stringMatching(/^Invalid rule\. Raw error: .+ at \d+\.$/),
          position: expect.any(Number),
        },
      })
      const r = await check({ collection: draft(), rule: 'title = "a" && (' })
      expect(r.body.ok).toBe(false)
      expect(r.body.position).toBeGreaterThanOrEqual(12)
    })

    it('reports an unknown field where it is, as saving would', async () => {
      const rule = 'title = "x" && titel = "y"'
      expect(await check({ collection: draft(), rule })).toEqual({
        status: 200,
        body: { ok: false, message: 'Invalid rule. Raw error: unknown field "titel" at 15.', position: 15 },
      })
      const saved = await call(running.url, 'POST', '/api/collections', su, draft({ listRule: rule }))
      expect(saved.status).toBe(400)
      expect((saved.body.data as Json).listRule).toEqual({
        code: 'validation_invalid_rule',
        message: 'Invalid rule. Raw error: unknown field "titel" at 15.',
      })
    })

    it('resolves @collection joins against every stored collection', async () => {
      expect(await check({ collection: draft(), rule: '@collection.posts.score > 1' })).toEqual({
        status: 200,
        body: { ok: true },
      })
      const bad = await check({ collection: draft(), rule: '@collection.posts.scor > 1' })
      expect(bad.body).toMatchObject({ ok: false, position: 0 })
      expect(bad.body.message).toContain('scor')
      const missing = await check({ collection: draft(), rule: '@collection.nope.id != ""' })
      expect(missing.body).toMatchObject({
        ok: false,
        message: expect.stringContaining('unknown collection'),
      })
    })

    it('resolves @request.auth fields and relation paths through auth collections', async () => {
      expect(
        await check({
          collection: draft(),
          rule: '@request.auth.id != "" && @request.auth.verified = true && owner.email = @request.auth.email',
        }),
      ).toEqual({ status: 200, body: { ok: true } })
      const bad = await check({ collection: draft(), rule: 'owner.emial = "x"' })
      expect(bad.body).toMatchObject({ ok: false, message: expect.stringContaining('emial') })
    })

    it('checks the rule of a stored collection with the draft’s changes (fields matched by id)', async () => {
      const stored = await call(running.url, 'GET', '/api/collections/posts', su)
      const fields = (stored.body.fields as Json[]).map((f) =>
        f.name === 'score' ? { ...f, name: 'points' } : f,
      )
      expect(await check({ collection: { ...stored.body, fields }, rule: 'points > 1' })).toEqual({
        status: 200,
        body: { ok: true },
      })
      expect((await check({ collection: { ...stored.body, fields }, rule: 'score > 1' })).body.ok).toBe(false)
      expect((await check({ collection: { id: postsId }, rule: 'score > 1' })).body.ok).toBe(true)
    })

    it('checks a stored view’s rule against the view’s fields', async () => {
      const view = await call(running.url, 'POST', '/api/collections', su, {
        name: 'scores',
        type: 'view',
        viewQuery: 'SELECT id, score FROM posts',
      })
      expect(view.status).toBe(200)
      const draftView = { id: view.body.id, viewQuery: 'SELECT id, score FROM posts' }
      expect((await check({ collection: draftView, rule: 'score > 1', kind: 'viewRule' })).body).toEqual({
        ok: true,
      })
      expect(
        (await check({ collection: draftView, rule: 'title = ""', kind: 'viewRule' })).body,
      ).toMatchObject({
        ok: false,
        position: 0,
      })
      // a view has no create rule: as at save
      expect((await check({ collection: draftView, rule: 'score > 1', kind: 'createRule' })).body).toEqual({
        ok: false,
        message: 'Must be null for view collections.',
      })
    })

    it('applies each slot’s own constraints (kind)', async () => {
      const auth = draft({ type: 'auth', name: 'members' })
      expect(await check({ collection: auth, rule: '', kind: 'manageRule' })).toEqual({
        status: 200,
        body: { ok: false, message: 'Cannot be blank.' },
      })
      expect((await check({ collection: auth, rule: 'verified = true', kind: 'authRule' })).body).toEqual({
        ok: true,
      })
      expect((await check({ collection: draft(), rule: 'title = ""', kind: 'authRule' })).status).toBe(400)
      const r = await check({ collection: draft(), rule: 'title = ""', kind: 'dropRule' })
      expect(r.status).toBe(400)
      expect((r.body.data as Json).kind).toMatchObject({ code: 'validation_in_invalid' })
    })

    it('is for superusers only: 401 for guests, 403 for other records', async () => {
      expect((await check({ collection: draft(), rule: '' }, '')).status).toBe(401)
      const users = running.sdk().collection('users')
      await users.create({
        email: `u-${kind}@example.com`,
        password: 'pass12345',
        passwordConfirm: 'pass12345',
      })
      const pb = running.sdk()
      await pb.collection('users').authWithPassword(`u-${kind}@example.com`, 'pass12345')
      expect((await check({ collection: draft(), rule: '' }, pb.authStore.token)).status).toBe(403)
    })

    it('bounds the rule length, the field count and the body size (limit + 1)', async () => {
      const atLimit = `title = "${'x'.repeat(MAX_RULE_LENGTH - 10)}"`
      expect(atLimit.length).toBe(MAX_RULE_LENGTH)
      expect((await check({ collection: draft(), rule: atLimit })).body).toEqual({ ok: true })
      expect((await check({ collection: draft(), rule: `${atLimit} ` })).body).toEqual({
        ok: false,
        message: `Invalid rule. Raw error: longer than ${MAX_RULE_LENGTH} characters.`,
        position: MAX_RULE_LENGTH,
      })

      const fields = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `f${i}`, type: 'bool' }))
      // The id field is added to a new draft: MAX_FIELDS - 1 of its own fields is the most it may have.
      expect(
        (await check({ collection: draft({ fields: fields(MAX_FIELDS - 1) }), rule: 'f1 = true' })).body,
      ).toEqual({
        ok: true,
      })
      const tooMany = await check({
        collection: draft({ fields: fields(MAX_FIELDS + 1) }),
        rule: 'f1 = true',
      })
      expect(tooMany.status).toBe(400)
      expect(tooMany.body.data).toMatchObject({
        collection: { fields: { code: 'validation_invalid_value' } },
      })

      const padding = (size: number) => {
        const base = JSON.stringify({ collection: draft(), rule: '', pad: '' })
        return { collection: draft(), rule: '', pad: 'x'.repeat(size - base.length) }
      }
      const fits = padding(RULE_CHECK_BODY_LIMIT)
      expect(JSON.stringify(fits).length).toBe(RULE_CHECK_BODY_LIMIT)
      expect((await check(fits)).status).toBe(200)
      expect((await check(padding(RULE_CHECK_BODY_LIMIT + 1))).status).toBe(413)
    })

    it('answers malformed bodies with a 400 in the error shape, never a 5xx', async () => {
      const bodies: unknown[] = [
        undefined,
        null,
        [],
        'rule',
        42,
        {},
        { rule: 'title = ""' },
        { collection: draft() },
        { collection: [], rule: '' },
        { collection: draft(), rule: 5 },
        { collection: draft(), rule: null },
        { collection: draft(), rule: '', kind: 7 },
        { collection: { type: 'nope' }, rule: '' },
        { collection: { fields: 'x' }, rule: '' },
        { collection: { fields: [{ name: 'a', type: 'nope' }] }, rule: '' },
        { collection: { fields: [null, 1, 'x'] }, rule: '' },
        { collection: { id: 5, name: [], listRule: {} }, rule: '' },
        { collection: { indexes: [1] }, rule: '' },
      ]
      for (const body of bodies) {
        const r = await check(body)
        expect(r.status, JSON.stringify(body)).toBe(400)
        expect(r.body).toMatchObject({ status: 400, message: expect.any(String), data: expect.any(Object) })
      }
      const raw = await fetch(`${running.url}${PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: su },
        body: '{"collection": {',
      })
      expect(raw.status).toBe(400)
    })

    it('never answers generated drafts, rules and kinds with a 5xx', async () => {
      const field = fc.record(
        {
          name: fc.oneof(fc.constantFrom('title', 'owner', 'x', ''), fc.string()),
          type: fc.oneof(
            fc.constantFrom('text', 'relation', 'select', 'file', 'json', 'number'),
            fc.string(),
          ),
          collectionId: fc.oneof(fc.constant('_pb_users_auth_'), fc.anything()),
          maxSelect: fc.anything(),
          values: fc.anything(),
        },
        { requiredKeys: [] },
      )
      const collection = fc.oneof(
        fc.anything(),
        fc.record(
          {
            id: fc.oneof(fc.constant(postsId), fc.anything()),
            name: fc.oneof(fc.constant('drafts'), fc.anything()),
            type: fc.oneof(fc.constantFrom('base', 'auth', 'view'), fc.anything()),
            fields: fc.oneof(fc.array(field, { maxLength: 5 }), fc.anything()),
            indexes: fc.anything(),
            viewQuery: fc.anything(),
          },
          { requiredKeys: [] },
        ),
      )
      const rule = fc.oneof(
        fc.constantFrom(
          'title = "x"',
          '@collection.posts.score > 1',
          'owner.email ?= @request.auth.email',
          '((',
        ),
        fc.string({ maxLength: 60 }),
        fc.anything(),
      )
      const kind = fc.oneof(
        fc.constantFrom(undefined, 'listRule', 'authRule', 'manageRule', 'createRule'),
        fc.anything(),
      )
      await fc.assert(
        fc.asyncProperty(collection, rule, kind, async (c, r, k) => {
          const res = await check({ collection: c, rule: r, kind: k })
          expect(res.status, JSON.stringify({ c, r, k })).toBeLessThan(500)
          expect([200, 400]).toContain(res.status)
        }),
        { numRuns: 150 },
      )
    })

    it('writes nothing', async () => {
      await check({ collection: draft({ name: 'ghost' }), rule: 'title = "x"' })
      expect((await call(running.url, 'GET', '/api/collections/ghost', su)).status).toBe(404)
    })
  })
}
