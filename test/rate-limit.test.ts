/**
 * PocketBase's rate limiter (pocketbase-api.md §1.6) and the client IP (§13.2 trustedProxy) on
 * SQLite and PostgreSQL, over HTTP: labels, audiences and tags at limit and limit+1, live settings,
 * exemptions, X-Forwarded-For spoofing, batch sub-requests, method override and CORS preflights.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { RateLimitRule } from '../src/settings/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'

type Json = Record<string, unknown>

const TOO_MANY = { status: 429, message: 'Too Many Requests.', data: {} }
const PASSWORD = 'rate limit password 1'

const rule = (
  label: string,
  maxRequests: number,
  audience: RateLimitRule['audience'] = '',
  duration = 60,
) => ({
  label,
  audience,
  duration,
  maxRequests,
})

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`rate limits on ${kind}`, () => {
    let store: TestStore
    let g: RunningGalley
    let suToken: string
    let userToken: string
    let postId: string

    /** One request; `headers` are sent as given. The status and parsed JSON body. */
    async function req(method: string, path: string, opts: { headers?: Json; body?: unknown } = {}) {
      const headers: Record<string, string> = { ...(opts.headers as Record<string, string>) }
      if (opts.body !== undefined) headers['content-type'] = 'application/json'
      const res = await fetch(`${g.url}${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      })
      const text = await res.text()
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as unknown }
    }
    const statuses = async (n: number, send: () => Promise<{ status: number }>) => {
      const out: number[] = []
      for (let i = 0; i < n; i++) out.push((await send()).status)
      return out
    }
    const limits = (rules: ReturnType<typeof rule>[], more: Json = {}) =>
      g.galley.settings.update({ rateLimits: { enabled: true, excludedIPs: [], rules, ...more } })
    const proxy = (headers: string[], useLeftmostIP = false) =>
      g.galley.settings.update({ trustedProxy: { headers, useLeftmostIP } })
    const list = (c = 'posts', headers: Json = {}) => req('GET', `/api/collections/${c}/records`, { headers })
    const create = (c = 'posts', headers: Json = {}) =>
      req('POST', `/api/collections/${c}/records`, { headers, body: { title: 't' } })
    const signIn = (identity: string, password: string, headers: Json = {}) =>
      req('POST', '/api/collections/users/auth-with-password', { headers, body: { identity, password } })

    beforeAll(async () => {
      store = await createStore(kind)
      g = await startGalley(store)
      const su = await g.asSuperuser()
      suToken = su.authStore.token
      const PUBLIC = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' }
      for (const name of ['posts', 'notes'])
        await su.collections.create({
          name,
          type: 'base',
          fields: [{ name: 'title', type: 'text' }],
          ...PUBLIC,
        })
      postId = (await su.collection('posts').create({ title: 'keep' })).id
      await su
        .collection('users')
        .create({ email: 'u@example.com', password: PASSWORD, passwordConfirm: PASSWORD })
      userToken = ((await signIn('u@example.com', PASSWORD)).body as { token: string }).token
      await g.galley.settings.update({ batch: { enabled: true, maxRequests: 200 } })
    })
    afterAll(async () => {
      await g?.close()
      await store?.cleanup()
    })

    it('disabled by default: PocketBase ships its limiter off', async () => {
      expect(g.galley.settings.get().rateLimits.enabled).toBe(false)
      expect(new Set(await statuses(30, () => req('GET', '/api/health')))).toEqual(new Set([200]))
    })

    it('a collection tag rule: limit answered, limit+1 is the exact 429, other collections untouched', async () => {
      await limits([rule('posts:list', 3)])
      expect(await statuses(4, () => list())).toEqual([200, 200, 200, 429])
      expect(await list()).toEqual({ status: 429, body: TOO_MANY })
      // The record by id is `view`, not `list`; another collection's list is its own label.
      expect((await req('GET', `/api/collections/posts/records/${postId}`)).status).toBe(200)
      expect(await statuses(5, () => list('notes'))).toEqual([200, 200, 200, 200, 200])
    })

    it('*:tag covers every collection, each collection route with its own counter', async () => {
      await limits([rule('*:create', 2)])
      expect(await statuses(3, () => create('posts'))).toEqual([200, 200, 429])
      expect(await statuses(3, () => create('notes'))).toEqual([200, 200, 429])
      expect((await list()).status).toBe(200)
    })

    it('path labels: exact METHOD path, and prefixes ending in / (the longest wins)', async () => {
      await limits([rule('/api/', 100), rule('/api/collections/notes/', 2), rule('GET /api/health', 1)])
      expect(await statuses(2, () => req('GET', '/api/health'))).toEqual([200, 429])
      // HEAD is not GET for the METHOD label: /api/ applies.
      expect((await req('HEAD', '/api/health')).status).toBe(200)
      expect(await statuses(3, () => list('notes'))).toEqual([200, 200, 429])
      // A percent-encoded path is the same path.
      expect((await req('GET', '/api/collections/%6Eotes/records')).status).toBe(429)
      expect((await list('posts')).status).toBe(200)
    })

    it('audience: @guest rules skip authenticated requests, @auth rules skip guests', async () => {
      await limits([rule('posts:list', 1, '@guest'), rule('notes:list', 1, '@auth')])
      expect(await statuses(2, () => list('posts'))).toEqual([200, 429])
      expect(await statuses(3, () => list('posts', { authorization: userToken }))).toEqual([200, 200, 200])
      expect(await statuses(3, () => list('notes'))).toEqual([200, 200, 200])
      expect(await statuses(2, () => list('notes', { authorization: userToken }))).toEqual([200, 429])
    })

    it('auth endpoint tags: authWithPassword and auth; unknown and known identities get the same 429', async () => {
      await limits([rule('users:auth', 2)])
      expect((await signIn('u@example.com', 'wrong')).status).toBe(400)
      expect((await signIn('nobody@example.com', 'wrong')).status).toBe(400)
      const known = await signIn('u@example.com', 'wrong')
      const unknown = await signIn('nobody@example.com', 'wrong')
      expect(known).toEqual({ status: 429, body: TOO_MANY })
      expect(unknown).toEqual(known)
      await limits([rule('*:authWithPassword', 1)])
      expect((await signIn('u@example.com', PASSWORD)).status).toBe(200)
      expect((await signIn('u@example.com', PASSWORD)).status).toBe(429)
      await limits([rule('*:listAuthMethods', 1)])
      expect(await statuses(2, () => req('GET', '/api/collections/users/auth-methods'))).toEqual([200, 429])
      await limits([rule('*:requestOTP', 1), rule('users:authWithOTP', 1)])
      const otp = (path: string, body: Json) => () => req('POST', `/api/collections/users/${path}`, { body })
      expect((await statuses(2, otp('request-otp', { email: 'u@example.com' })))[1]).toBe(429)
      expect((await statuses(2, otp('auth-with-otp', { otpId: 'x', password: '1' })))[1]).toBe(429)
      await limits([rule('users:authRefresh', 1)])
      const refresh = () =>
        req('POST', '/api/collections/users/auth-refresh', { headers: { authorization: userToken } })
      expect(await statuses(2, refresh)).toEqual([200, 429])
    })

    it('a settings change applies at once, without a restart (and restarts the counters)', async () => {
      await limits([rule('posts:list', 1)])
      expect(await statuses(2, () => list())).toEqual([200, 429])
      await limits([rule('posts:list', 3)])
      expect(await statuses(4, () => list())).toEqual([200, 200, 200, 429])
      await g.galley.settings.update({ rateLimits: { enabled: false } })
      expect(await statuses(3, () => list())).toEqual([200, 200, 200])
    })

    it('the window: refused requests do not extend it; it reopens after `duration`', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
      try {
        await limits([rule('posts:list', 2, '', 10)])
        expect(await statuses(3, () => list())).toEqual([200, 200, 429])
        vi.setSystemTime(Date.now() + 9_000)
        expect((await list()).status).toBe(429)
        vi.setSystemTime(Date.now() + 1_000)
        expect(await statuses(3, () => list())).toEqual([200, 200, 429])
      } finally {
        vi.useRealTimers()
      }
    })

    it('superusers and excludedIPs are never limited', async () => {
      await limits([rule('/api/', 1)])
      expect(await statuses(5, () => list('posts', { authorization: suToken }))).toEqual([
        200, 200, 200, 200, 200,
      ])
      expect((await list()).status).toBe(200)
      expect((await list()).status).toBe(429)
      // A regular user is limited like a guest (here: the same client, the same counter).
      expect((await list('posts', { authorization: userToken })).status).toBe(429)
      await limits([rule('/api/', 1)], { excludedIPs: ['10.0.0.1', '::ffff:127.0.0.1'] })
      expect(await statuses(5, () => list())).toEqual([200, 200, 200, 200, 200])
    })

    it('X-Forwarded-For changes nothing without trustedProxy (A38)', async () => {
      await limits([rule('GET /api/health', 1)])
      const spoofed = (ip: string) =>
        req('GET', '/api/health', { headers: { 'x-forwarded-for': ip, 'x-real-ip': ip } })
      expect((await spoofed('10.1.1.1')).status).toBe(200)
      expect((await spoofed('10.1.1.2')).status).toBe(429)
      expect((await spoofed('10.1.1.3, 10.1.1.4')).status).toBe(429)
    })

    it('with trustedProxy: the rightmost valid address, or the leftmost when configured', async () => {
      await proxy(['X-Forwarded-For'])
      try {
        await limits([rule('GET /api/health', 1, '', 61)])
        const via = (xff: string) => req('GET', '/api/health', { headers: { 'x-forwarded-for': xff } })
        expect((await via('6.6.6.1, 10.2.0.1')).status).toBe(200)
        // The client-controlled left part changes nothing; invalid entries are skipped.
        expect((await via('6.6.6.2, 10.2.0.1')).status).toBe(429)
        expect((await via('10.2.0.1, garbage')).status).toBe(429)
        expect((await via('::ffff:10.2.0.1')).status).toBe(429)
        expect((await via('6.6.6.1, 10.2.0.2')).status).toBe(200)
        // No header: the socket's address.
        expect((await req('GET', '/api/health')).status).toBe(200)
        expect((await req('GET', '/api/health')).status).toBe(429)

        // The health check shows superusers the address Galley sees (§13.1).
        const health = await req('GET', '/api/health', {
          headers: { authorization: suToken, 'x-forwarded-for': '6.6.6.6, ::ffff:10.4.0.1' },
        })
        expect((health.body as { data: { realIP: string } }).data.realIP).toBe('10.4.0.1')

        await proxy(['X-Forwarded-For'], true)
        expect((await via('10.3.0.1, 10.2.0.9')).status).toBe(200)
        expect((await via('10.3.0.1, 10.2.0.8')).status).toBe(429)
        expect((await via('junk, 10.3.0.2, 10.2.0.8')).status).toBe(200)
      } finally {
        await proxy([])
      }
    })

    it('IPv6 clients are counted by their /64: rotating addresses inside it gets nothing more', async () => {
      await proxy(['X-Forwarded-For'])
      try {
        await limits([rule('GET /api/health', 2, '', 62)])
        const via = (xff: string) => req('GET', '/api/health', { headers: { 'x-forwarded-for': xff } })
        const inside = ['2001:db8:7:8::1', '2001:db8:7:8:ffff::2', '2001:db8:7:8:1:2:3:4', '2001:db8:7:8::5']
        const rs = []
        for (const ip of inside) rs.push((await via(ip)).status)
        expect(rs).toEqual([200, 200, 429, 429])
        // The next /64 and IPv4 clients have their own counters.
        expect((await via('2001:db8:7:9::1')).status).toBe(200)
        expect((await via('10.5.0.1')).status).toBe(200)
      } finally {
        await proxy([])
      }
    })

    it('a batch counts every sub-request against its own tag: 5 creates are 5 `create`s', async () => {
      await limits([rule('*:create', 5), rule('/api/batch', 100)])
      const batch = (n: number, c = 'posts') =>
        req('POST', '/api/batch', {
          body: {
            requests: Array.from({ length: n }, (_, i) => ({
              method: 'POST',
              url: `/api/collections/${c}/records`,
              body: { title: `batch ${i}` },
            })),
          },
        })
      const before = (await list('notes', { authorization: suToken })).body as { totalItems: number }
      const r = await batch(6, 'notes')
      expect(r).toEqual({
        status: 400,
        body: {
          status: 400,
          message: 'Batch transaction failed.',
          data: {
            requests: {
              5: { code: 'batch_request_failed', message: 'Batch request failed.', response: TOO_MANY },
            },
          },
        },
      })
      // Nothing ran, and the five counted stay counted.
      expect(
        ((await list('notes', { authorization: suToken })).body as { totalItems: number }).totalItems,
      ).toBe(before.totalItems)
      expect((await create('notes')).status).toBe(429)
      expect((await batch(5, 'posts')).status).toBe(200)
      expect((await create('posts')).status).toBe(429)
      // Upserts, updates and deletes count as what they are.
      await limits([rule('posts:update', 1), rule('posts:delete', 1), rule('/api/batch', 100)])
      const ops = (method: string, url: string) =>
        req('POST', '/api/batch', { body: { requests: [{ method, url, body: { title: 'x' } }] } })
      expect((await ops('PATCH', `/api/collections/posts/records/${postId}`)).status).toBe(200)
      expect((await ops('PATCH', `/api/collections/posts/records/${postId}`)).status).toBe(400)
      expect((await ops('PUT', '/api/collections/posts/records')).status).toBe(400)
      // The batch's superuser is exempt.
      const su = await req('POST', '/api/batch', {
        headers: { authorization: suToken },
        body: { requests: [{ method: 'PATCH', url: `/api/collections/posts/records/${postId}`, body: {} }] },
      })
      expect(su.status).toBe(200)
    })

    it('method-override headers and _method never change routing or the counted route', async () => {
      await limits([rule('*:authWithPassword', 2), rule('posts:delete', 100)])
      const override = { 'x-http-method-override': 'GET', 'x-method-override': 'GET' }
      expect((await signIn('u@example.com', 'wrong', override)).status).toBe(400)
      expect((await signIn('u@example.com', 'wrong', override)).status).toBe(400)
      expect((await signIn('u@example.com', 'wrong', override)).status).toBe(429)
      const del = { 'x-http-method-override': 'DELETE', 'x-method-override': 'DELETE' }
      const viewed = await req('GET', `/api/collections/posts/records/${postId}?_method=DELETE`, {
        headers: del,
      })
      expect(viewed.status).toBe(200)
      const form = await fetch(`${g.url}/api/collections/posts/records/${postId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...del },
        body: '_method=DELETE',
      })
      expect(form.status).toBe(404)
      expect((await req('GET', `/api/collections/posts/records/${postId}`)).status).toBe(200)
    })

    it('CORS preflights are never limited', async () => {
      await limits([rule('/api/', 1)])
      const preflight = () =>
        fetch(`${g.url}/api/collections/posts/records`, {
          method: 'OPTIONS',
          headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
        })
      for (let i = 0; i < 5; i++) expect((await preflight()).status).toBe(204)
      expect((await list()).status).toBe(200)
      expect((await list()).status).toBe(429)
      await g.galley.settings.update({ rateLimits: { enabled: false } })
    })
  })
}
