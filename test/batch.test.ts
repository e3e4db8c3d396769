/**
 * `POST /api/batch` (pocketbase-api.md §12, Appendix C.8) on SQLite and PostgreSQL, through the
 * SDK's `pb.createBatch()` (always multipart with one `@jsonPayload`) and raw JSON: actions and
 * upserts, modifiers, per-request rules, headers and `@request.context`, all-or-nothing rollback,
 * the settings gate and limits, the timeout and concurrent batches on one record.
 */
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BATCH_URL_LENGTH } from '../src/http/batch-request.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { sdkFailure as failure, type SdkFailure as Failure } from './helpers/sdk-failure.js'

type Json = Record<string, unknown>

const NOT_ALLOWED = 'Batch requests are not allowed.'
const TX_FAILED = 'Batch transaction failed.'
const INVALID = 'Invalid batch request data.'
const UNREADABLE = 'Failed to read the submitted batch data.'
const GENERIC = 'Something went wrong while processing your request.'
const PASSWORD = 'batch password 123'
const MAX_REQUESTS = 5

/** What the batch error nests for request `index` failing with `response`. */
const failedAt = (index: number, response: Failure) => ({
  status: 400,
  message: TX_FAILED,
  data: {
    requests: {
      [index]: { code: 'batch_request_failed', message: 'Batch request failed.', response },
    },
  },
})

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`batch API on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let guest: PocketBase
    let alice: { id: string; pb: PocketBase }
    let bob: { id: string; pb: PocketBase }

    /** POST /api/batch with a raw body; the JSON answer and status. */
    async function post(body: string | Buffer, type = 'application/json', token?: string, chunked = false) {
      const headers: Record<string, string> = { 'content-type': type }
      if (token) headers.authorization = token
      // Chunked: no Content-Length, so the limit is met while reading.
      const payload = chunked ? new Blob([body]).stream() : body
      const init = { method: 'POST', headers, body: payload, duplex: 'half' }
      const res = await fetch(`${g.url}/api/batch`, init as RequestInit)
      const text = await res.text()
      const json = text === '' ? undefined : (JSON.parse(text) as unknown)
      if (res.status >= 400) expect((json as Json).status).toBe(res.status)
      return { status: res.status, body: json }
    }
    const postJson = (requests: unknown, token?: string) =>
      post(JSON.stringify({ requests }), 'application/json', token)

    async function user(name: string) {
      const email = `${name}@example.com`
      const r = await su.collection('users').create({ email, password: PASSWORD, passwordConfirm: PASSWORD })
      const pb = g.sdk()
      await pb.collection('users').authWithPassword(email, PASSWORD)
      return { id: r.id, pb }
    }

    const titles = async (collection: string) =>
      (await su.collection(collection).getFullList({ sort: 'title' })).map((r) => r.title as string)
    const setBatch = (batch: Json) => su.settings.update({ batch })

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      guest = g.sdk()
      const PUBLIC = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }
      await su.collections.create({
        name: 'posts',
        type: 'base',
        fields: [
          { name: 'title', type: 'text', required: true },
          { name: 'views', type: 'number' },
          { name: 'documents', type: 'file', maxSelect: 3, maxSize: 1000 },
          { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
        ],
        ...PUBLIC,
      })
      await su.collections.create({
        name: 'owned',
        type: 'base',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
        ],
        listRule: 'author = @request.auth.id',
        viewRule: 'author = @request.auth.id',
        createRule: "@request.auth.id != ''",
        updateRule: 'author = @request.auth.id',
        deleteRule: 'author = @request.auth.id',
      })
      await su.collections.create({
        name: 'locked',
        type: 'base',
        fields: [{ name: 'title', type: 'text' }],
      })
      await su.collections.create({
        name: 'batchonly',
        type: 'base',
        fields: [{ name: 'title', type: 'text' }],
        createRule:
          "@request.context = 'batch' && @request.headers.x_token = 's3cret' && @request.method = 'POST' && @request.query.tag = 'q1'",
      })
      alice = await user('alice')
      bob = await user('bob')
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it('is refused with a 403 while disabled (the default)', async () => {
      const batch = su.createBatch()
      batch.collection('posts').create({ title: 'never' })
      expect(await failure(batch.send())).toEqual({ status: 403, message: NOT_ALLOWED, data: {} })
      // Before the body is even read: a broken one gets the same answer.
      expect((await post('{broken')).body).toEqual({ status: 403, message: NOT_ALLOWED, data: {} })
      await setBatch({ enabled: true, maxRequests: MAX_REQUESTS, timeout: 3, maxBodySize: 0 })
    })

    it('runs create, update with modifiers, upserts and delete through the SDK in order', async () => {
      const a = await su.collection('posts').create({ title: 'a', views: 1 })
      const gone = await su.collection('posts').create({ title: 'gone' })
      const batch = guest.createBatch()
      batch.collection('posts').create({ title: 'b1', views: 5 }, { fields: 'id,title' })
      batch.collection('posts').update(a.id, { 'views+': 1 })
      batch.collection('posts').update(a.id, { 'views+': 2, title: 'a2' })
      batch.collection('posts').upsert({ id: a.id, 'views-': 1 })
      batch.collection('posts').upsert({ id: 'upsertnew000001', title: 'u1' })
      await setBatch({ maxRequests: 6 })
      batch.collection('posts').delete(gone.id)
      const results = await batch.send()
      await setBatch({ maxRequests: MAX_REQUESTS })

      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 204])
      const created = results[0]!.body as Json
      expect(Object.keys(created).sort()).toEqual(['id', 'title'])
      expect(created.title).toBe('b1')
      expect(results[1]!.body).toMatchObject({ id: a.id, views: 2, title: 'a' })
      expect(results[2]!.body).toMatchObject({ id: a.id, views: 4, title: 'a2' })
      expect(results[3]!.body).toMatchObject({ id: a.id, views: 3, title: 'a2' })
      expect(results[4]!.body).toMatchObject({ id: 'upsertnew000001', title: 'u1', collectionName: 'posts' })
      expect(results[5]!.body).toBeNull()

      expect(await su.collection('posts').getOne(a.id)).toMatchObject({ views: 3, title: 'a2' })
      expect(await su.collection('posts').getOne(created.id as string)).toMatchObject({ views: 5 })
      expect(await titles('posts')).toEqual(['a2', 'b1', 'u1'])
    })

    it('expands relations per request (?expand=), through the target view rule', async () => {
      const b = su.createBatch()
      b.collection('posts').create(
        { title: 'by alice', author: alice.id },
        { expand: 'author', fields: 'title,expand.author.id' },
      )
      b.collection('posts').upsert({ title: 'by bob', author: bob.id }, { expand: 'author' })
      const [created, upserted] = await b.send()
      expect(created!.body).toEqual({ title: 'by alice', expand: { author: { id: alice.id } } })
      expect((upserted!.body as { expand: { author: Json } }).expand.author.id).toBe(bob.id)
      // A guest may not view users: the relation is not expanded for it, in a batch as over REST.
      const post = await su.collection('posts').getFirstListItem(`title = 'by alice'`)
      const rest = await guest.collection('posts').update(post.id, { views: 1 }, { expand: 'author' })
      const g2 = guest.createBatch()
      g2.collection('posts').update(post.id, { views: 2 }, { expand: 'author' })
      const [viaBatch] = await g2.send()
      expect((viaBatch!.body as Json).expand).toEqual(rest.expand)
      await su.collection('posts').delete(post.id)
      await su.collection('posts').delete((upserted!.body as Json).id as string)
    })

    it('goes on after an expand that fails in the database (left out, the transaction still usable)', async () => {
      // inv divides by d: on PostgreSQL reading the row of d = 0 fails (SQLite gives NULL).
      await setBatch({ enabled: true, maxRequests: MAX_REQUESTS, timeout: 3 })
      const nums = await su.collections.create({
        name: 'nums',
        type: 'base',
        listRule: '',
        viewRule: '',
        createRule: '',
        fields: [{ name: 'd', type: 'number' }],
      })
      const inv = await su.collections.create({
        name: 'inv',
        type: 'view',
        listRule: '',
        viewRule: '',
        viewQuery: 'SELECT n.id AS id, n.id AS num, 1.0 / n.d AS x FROM nums n',
      })
      expect(inv.fields.find((f) => f.name === 'num')).toMatchObject({
        type: 'relation',
        collectionId: nums.id,
      })
      const b = su.createBatch()
      b.collection('nums').create({ d: 0 }, { expand: 'inv_via_num' })
      b.collection('nums').create({ d: 2 }, { expand: 'inv_via_num' })
      const [first, second] = await b.send()
      expect(first!.status).toBe(200)
      if (kind === 'postgres') expect((first!.body as Json).expand).toEqual({})
      const expanded = ((second!.body as Json).expand as { inv_via_num: Json[] }).inv_via_num
      expect(expanded.map((r) => r.x)).toEqual([0.5])
      expect((await su.collection('nums').getFullList({ sort: 'd' })).map((r) => r.d)).toEqual([0, 2])
      await su.collections.delete('inv')
      await su.collections.delete(nums.id)
    })

    it('answers a JSON batch in the wire shape of C.8', async () => {
      const res = await postJson([
        { method: 'POST', url: '/api/collections/posts/records', body: { title: 'json' } },
        { method: 'DELETE', url: '/api/collections/posts/records/upsertnew000001' },
      ])
      expect(res.status).toBe(200)
      const body = res.body as { status: number; body: Json | null }[]
      expect(body).toHaveLength(2)
      expect(body[0]).toEqual({ status: 200, body: expect.objectContaining({ title: 'json' }) })
      expect(body[1]).toEqual({ status: 204, body: null })
    })

    it('rolls everything back when one request fails, naming it and nesting its error', async () => {
      const before = await su.collection('posts').getFullList({ sort: 'id' })
      const a = before.find((r) => r.title === 'a2')!
      const batch = su.createBatch()
      batch.collection('posts').create({ title: 'rolled back' })
      batch.collection('posts').update(a.id, { 'views+': 100 })
      batch.collection('posts').update(a.id, { title: '' })
      batch.collection('posts').delete(a.id)
      const f = await failure(batch.send())
      expect(f).toEqual(
        failedAt(2, {
          status: 400,
          message: 'Failed to update record.',
          data: { title: { code: 'validation_required', message: 'Cannot be blank.' } },
        }),
      )
      expect(await su.collection('posts').getFullList({ sort: 'id' })).toEqual(before)
    })

    it('applies each rule per request: the nested error is what the REST route answers', async () => {
      const mine = await alice.pb.collection('owned').create({ title: 'mine', author: alice.id })
      const cases: [
        string,
        PocketBase,
        (pb: PocketBase) => Promise<unknown>,
        (b: ReturnType<PocketBase['createBatch']>) => void,
      ][] = [
        [
          'guest updates a record its rule hides',
          guest,
          (pb) => pb.collection('owned').update(mine.id, { title: 'x' }),
          (b) => b.collection('owned').update(mine.id, { title: 'x' }),
        ],
        [
          'another user deletes it',
          bob.pb,
          (pb) => pb.collection('owned').delete(mine.id),
          (b) => b.collection('owned').delete(mine.id),
        ],
        [
          'a guest creates past a create rule',
          guest,
          (pb) => pb.collection('owned').create({ title: 'x' }),
          (b) => b.collection('owned').create({ title: 'x' }),
        ],
        [
          'a user writes a superusers-only collection',
          alice.pb,
          (pb) => pb.collection('locked').create({ title: 'x' }),
          (b) => b.collection('locked').create({ title: 'x' }),
        ],
        [
          'an unknown collection',
          alice.pb,
          (pb) => pb.collection('nope').create({ title: 'x' }),
          (b) => b.collection('nope').create({ title: 'x' }),
        ],
      ]
      for (const [what, pb, rest, add] of cases) {
        const direct = await failure(rest(pb))
        expect(direct.status, what).toBeGreaterThanOrEqual(400)
        const batch = pb.createBatch()
        batch.collection('posts').create({ title: 'first, rolled back' })
        add(batch)
        expect(await failure(batch.send()), what).toEqual(failedAt(1, direct))
      }
      expect(await titles('owned')).toEqual(['mine'])
      expect(await titles('locked')).toEqual([])
      expect(await titles('posts')).not.toContain('first, rolled back')

      // The owner may, in a batch as over REST.
      const ok = alice.pb.createBatch()
      ok.collection('owned').update(mine.id, { title: 'mine, edited' })
      expect((await ok.send())[0]!.status).toBe(200)
    })

    it("uses the parent's auth only: a request's own Authorization header is ignored", async () => {
      const batch = guest.createBatch()
      batch
        .collection('owned')
        .create({ title: 'smuggled' }, { headers: { Authorization: alice.pb.authStore.token } })
      const f = await failure(batch.send())
      expect(f).toEqual(failedAt(0, { status: 400, message: 'Failed to create record.', data: {} }))
      expect(await titles('owned')).toEqual(['mine, edited'])
    })

    it("gives rules @request.context 'batch', the request's headers, method and query", async () => {
      const direct = await failure(
        guest.collection('batchonly').create({ title: 'rest' }, { headers: { 'X-Token': 's3cret' } }),
      )
      // Outside a batch the rule fails even with the header.
      expect(direct).toEqual({ status: 400, message: 'Failed to create record.', data: {} })
      const ok = guest.createBatch()
      ok.collection('batchonly').create(
        { title: 'in batch' },
        { headers: { 'X-Token': 's3cret' }, query: { tag: 'q1' } },
      )
      expect((await ok.send())[0]!.status).toBe(200)
      for (const [headers, query] of [
        [{ 'X-Token': 'wrong' }, { tag: 'q1' }],
        [{}, { tag: 'q1' }],
        [{ 'X-Token': 's3cret' }, { tag: 'other' }],
      ] as const) {
        const b = guest.createBatch()
        b.collection('batchonly').create({ title: 'no' }, { headers, query })
        expect((await failure(b.send())).data).toEqual(
          failedAt(0, { status: 400, message: 'Failed to create record.', data: {} }).data,
        )
      }
      expect(await titles('batchonly')).toEqual(['in batch'])
    })

    it('takes file parts as uploads of their request (test/files-batch.test.ts has the rest)', async () => {
      const batch = su.createBatch()
      batch.collection('posts').create({ title: 'with file', documents: [new File(['x'], 'attached.txt')] })
      const [created] = await batch.send()
      expect((created!.body as Json).documents).toEqual([
        expect.stringMatching(/^attached_[a-z0-9]{10}\.txt$/),
      ])
      expect(await titles('posts')).toContain('with file')
    })

    it(`takes 1..maxRequests requests (${MAX_REQUESTS}: at it 200, past it 400)`, async () => {
      const create = (i: number) => ({
        method: 'POST',
        url: '/api/collections/posts/records',
        body: { title: `n${i}` },
      })
      const at = await postJson(Array.from({ length: MAX_REQUESTS }, (_, i) => create(i)))
      expect(at.status).toBe(200)
      const over = await postJson(Array.from({ length: MAX_REQUESTS + 1 }, (_, i) => create(i)))
      expect(over.body).toEqual({
        status: 400,
        message: INVALID,
        data: {
          requests: {
            code: 'validation_length_too_long',
            message: `The length must be no more than ${MAX_REQUESTS}.`,
            params: { min: 0, max: MAX_REQUESTS },
          },
        },
      })
      for (const requests of [[], null, undefined]) {
        const res = await post(JSON.stringify(requests === undefined ? {} : { requests }))
        expect(res.body).toEqual({
          status: 400,
          message: INVALID,
          data: { requests: { code: 'validation_required', message: 'Cannot be blank.' } },
        })
      }
    })

    it(`validates each request's method and url (at most ${MAX_BATCH_URL_LENGTH} characters)`, async () => {
      const base = '/api/collections/posts/records?pad='
      const url = (n: number) => base + 'é'.repeat(n - base.length) // characters, not bytes
      const at = await postJson([
        { method: 'POST', url: url(MAX_BATCH_URL_LENGTH), body: { title: 'long url' } },
      ])
      expect(at.status).toBe(200)
      const res = await postJson([
        { method: 'POST', url: url(MAX_BATCH_URL_LENGTH + 1), body: { title: 'x' } },
        { method: 'FETCH', url: '/api/collections/posts/records' },
        { url: '' },
        { method: 'post', url: '/api/collections/posts/records' },
      ])
      const tooLong = {
        code: 'validation_length_too_long',
        message: `The length must be no more than ${MAX_BATCH_URL_LENGTH}.`,
        params: { min: 0, max: MAX_BATCH_URL_LENGTH },
      }
      const required = { code: 'validation_required', message: 'Cannot be blank.' }
      const notIn = { code: 'validation_in_invalid', message: 'Must be a valid value.' }
      expect(res.body).toEqual({
        status: 400,
        message: INVALID,
        data: {
          requests: {
            0: { url: tooLong },
            1: { method: notIn },
            2: { method: required, url: required },
            3: { method: notIn },
          },
        },
      })
    })

    it('refuses unreadable bodies and unknown actions with a 400', async () => {
      for (const body of [
        '{"requests": "x"}',
        '[1]',
        '{"requests": [null]}',
        '{"requests": [{"method": 5, "url": "/x"}]}',
        '{"requests": [{"method": "POST", "url": "/x", "body": [1]}]}',
        '{"requests": [{"method": "POST", "url": "/x", "headers": {"a": 1}}]}',
      ]) {
        expect((await post(body)).body, body).toEqual({ status: 400, message: UNREADABLE, data: {} })
      }
      expect((await post('{broken')).status).toBe(400)
      expect((await post('x', 'text/plain')).status).toBe(400)

      const before = await titles('posts')
      for (const [method, url] of [
        ['GET', '/api/collections/posts/records'],
        ['POST', '/api/collections/posts/records/'],
        ['POST', '/api/collections/posts'],
        ['PATCH', '/api/collections/posts/records'],
        ['DELETE', '/api/collections/posts/records/a/b'],
        ['POST', '/api/collections/posts/records?x=\n'],
        ['POST', '/api/collections/%E0%A4%A/records'],
        ['POST', 'http://example.com/api/collections/posts/records'],
      ]) {
        const res = await postJson([
          { method: 'POST', url: '/api/collections/posts/records', body: { title: 'before unknown' } },
          { method, url, body: { title: 'x' } },
        ])
        expect(res.body, `${method} ${url}`).toEqual(failedAt(1, { status: 400, message: GENERIC, data: {} }))
      }
      expect(await titles('posts')).toEqual(before)
    })

    it('holds the body to batch.maxBodySize: at it the batch runs, past it 413', async () => {
      const limit = 2000
      await setBatch({ maxBodySize: limit })
      const body = (n: number) => {
        const text = JSON.stringify({
          requests: [
            { method: 'POST', url: '/api/collections/posts/records', body: { title: 'sized', pad: '' } },
          ],
        })
        return text.replace('"pad":""', `"pad":"${'p'.repeat(n - text.length)}"`)
      }
      expect(body(limit)).toHaveLength(limit)
      for (const chunked of [false, true]) {
        expect((await post(body(limit), 'application/json', undefined, chunked)).status).toBe(200)
        expect((await post(body(limit + 1), 'application/json', undefined, chunked)).body).toEqual({
          status: 413,
          message: 'Request entity too large.',
          data: {},
        })
      }
      // The SDK's multipart body counts the same way.
      const big = su.createBatch()
      big.collection('posts').create({ title: 'x'.repeat(limit) })
      expect((await failure(big.send())).status).toBe(413)
      await setBatch({ maxBodySize: 0 })
      expect((await post(body(limit + 1))).status).toBe(200)
    })

    it('loses no increment when batches run in parallel on one record', async () => {
      const counter = await su.collection('posts').create({ title: 'counter', views: 0 })
      const clients = [su, guest, alice.pb, bob.pb, g.sdk(), g.sdk()]
      const sent = await Promise.all(
        clients.map((pb) => {
          const b = pb.createBatch()
          for (let i = 0; i < 4; i++) b.collection('posts').update(counter.id, { 'views+': 1 })
          return b.send()
        }),
      )
      expect(sent.flat().map((r) => r.status)).toEqual(Array(24).fill(200))
      expect((await su.collection('posts').getOne(counter.id)).views).toBe(24)
    })

    /** User creates: password hashing makes each one take a while. */
    const slowCreates = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => ({
        method: 'POST',
        url: '/api/collections/users/records',
        body: { email: `${prefix}${i}@example.com`, password: PASSWORD, passwordConfirm: PASSWORD },
      }))
    const userCount = async () => (await su.collection('users').getList(1, 1)).totalItems

    it('times out, rolls everything back and keeps serving (the database is not held)', async () => {
      // Password hashing makes each create slow; 300 of them take several times the 1 s limit.
      const n = 300
      await setBatch({ timeout: 1, maxRequests: n })
      const usersBefore = await userCount()
      const started = Date.now()
      const batch = postJson(slowCreates(n, 'slow'), su.authStore.token)
      await pause(300)
      // Another request meanwhile: on SQLite it waits for the one connection, no longer than the limit.
      const other = await su.collection('posts').getList(1, 1)
      const otherDone = Date.now() - started
      const res = await batch
      const elapsed = Date.now() - started
      expect(res.body).toEqual({ status: 400, message: TX_FAILED, data: {} })
      expect(other.totalItems).toBeGreaterThan(0)
      expect(elapsed).toBeLessThan(3000)
      expect(otherDone).toBeLessThan(3000)
      expect(await userCount()).toBe(usersBefore)

      // And a batch within the limit still commits afterwards.
      await setBatch({ timeout: 3, maxRequests: MAX_REQUESTS })
      const ok = su.createBatch()
      ok.collection('posts').create({ title: 'after timeout' })
      expect((await ok.send())[0]!.status).toBe(200)
    })

    it('rolls back a batch whose client disconnects', async () => {
      const n = 150
      await setBatch({ timeout: 60, maxRequests: n })
      const before = await userCount()
      const controller = new AbortController()
      const sent = fetch(`${g.url}/api/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: su.authStore.token },
        body: JSON.stringify({ requests: slowCreates(n, 'gone') }),
        signal: controller.signal,
      }).catch((e: unknown) => e)
      await pause(300)
      controller.abort()
      expect((await sent) as Error).toMatchObject({ name: 'AbortError' })
      // Long enough for all of it to have committed had it gone on (on SQLite this read waits for it).
      await pause(2500)
      expect(await userCount()).toBe(before)
      await setBatch({ timeout: 3, maxRequests: MAX_REQUESTS })
    })
  })
}
