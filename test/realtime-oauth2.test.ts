/**
 * The SDK's all-in-one OAuth2 popup flow (pocketbase-api.md §8.8 B) end to end, on SQLite and
 * PostgreSQL: `authWithOAuth2({ provider, urlCallback })` subscribes to `@oauth2` over SSE (the
 * `eventsource` package as EventSource), the "popup" follows the real OAuth2 provider
 * (oauth2-mock-server) to `/api/oauth2-redirect`, which sends the code to that realtime client, and
 * the SDK finishes the sign-in. Also: the same message over WebSocket, the redirect's 4xx for input
 * it cannot deliver, and the form_post variant.
 */
import { get } from 'node:http'
import { EventSource } from 'eventsource'
import { OAuth2Server } from 'oauth2-mock-server'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MAX_OAUTH2_CODE_LENGTH,
  MAX_OAUTH2_ERROR_LENGTH,
  OAUTH2_TOPIC,
} from '../src/http/routes/oauth2-redirect.js'
import { MAX_CLIENT_ID_LENGTH } from '../src/realtime/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { CLIENT_ID, CLIENT_SECRET } from './helpers/oauth2.js'
import { openWs, until, type WsClient } from './helpers/ws.js'

;(globalThis as { EventSource?: unknown }).EventSource = EventSource

/** What a browser does with a URL: GET it on a fresh connection; the status, Location and body. */
function browse(
  url: string,
  accept = 'text/html',
  localAddress?: string,
): Promise<{ status: number; location: string; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers: { accept }, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location ?? '', body }),
      )
    }).on('error', reject)
  })
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`OAuth2 popup flow over realtime (${kind})`, () => {
    let store: TestStore
    let g: RunningGalley
    let su: PocketBase
    let idp: OAuth2Server
    const opened: WsClient[] = []
    let who: Record<string, unknown> = {}

    beforeAll(async () => {
      idp = new OAuth2Server()
      await idp.issuer.keys.generate('RS256')
      await idp.start(0, '127.0.0.1')
      const issuer = idp.issuer.url!
      idp.service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
        if ('aud' in token.payload) Object.assign(token.payload, who)
      })
      idp.service.on('beforeUserinfo', (res: { body: Record<string, unknown> }) => {
        res.body = { ...who }
      })
      store = await createStore(kind)
      g = await startGalley(store)
      su = await g.asSuperuser()
      await su.collections.update('users', {
        oauth2: {
          enabled: true,
          mappedFields: { id: '', name: 'name', username: '', avatarURL: '' },
          providers: [
            {
              name: 'oidc',
              clientId: CLIENT_ID,
              clientSecret: CLIENT_SECRET,
              authURL: `${issuer}/authorize`,
              tokenURL: `${issuer}/token`,
              userInfoURL: `${issuer}/userinfo`,
            },
          ],
        },
      })
    })

    afterAll(async () => {
      for (const c of opened) await c.close()
      await g?.close()
      await store?.cleanup()
      await idp?.stop()
    })

    it('authWithOAuth2({ provider, urlCallback }) signs in through the provider, the redirect and @oauth2', async () => {
      who = { sub: 'popup-user-1', email: 'popup@example.com', email_verified: true, name: 'Pop Up' }
      const pb = g.sdk()
      const pages: { status: number; body: string }[] = []
      let opened = ''
      const auth = await pb.collection('users').authWithOAuth2({
        provider: 'oidc',
        urlCallback: async (url: string) => {
          opened = url
          // the popup: the provider signs the user in and redirects to /api/oauth2-redirect
          const provider = await browse(url)
          expect(provider.status).toBe(302)
          expect(provider.location.startsWith(`${g.url}/api/oauth2-redirect?`)).toBe(true)
          pages.push(await browse(provider.location))
        },
      })
      expect(new URL(opened).searchParams.get('redirect_uri')).toBe(`${g.url}/api/oauth2-redirect`)
      expect(auth.record).toMatchObject({ email: 'popup@example.com', name: 'Pop Up', verified: true })
      expect(auth.meta).toMatchObject({ id: 'popup-user-1', isNew: true })
      expect(pb.authStore.isValid).toBe(true)
      expect(pb.authStore.record?.id).toBe(auth.record.id)
      expect(pages).toHaveLength(1)
      expect(pages[0]!.status).toBe(200)
      expect(pages[0]!.body).toContain('Auth completed')
      // the SDK's one-off realtime connection is gone
      await until(() => g.galley.realtime.clientCount === 0, 'the one-off connection to close')
    })

    it('a provider error reaches the SDK as a rejection, with a failure page in the popup', async () => {
      const pb = g.sdk()
      let popup: Promise<{ status: number; body: string }> | undefined
      const result = pb.collection('users').authWithOAuth2({
        provider: 'oidc',
        urlCallback: async (url: string) => {
          const state = new URL(url).searchParams.get('state')!
          popup = browse(`${g.url}/api/oauth2-redirect?state=${state}&error=access_denied`)
          await popup
        },
      })
      await expect(result).rejects.toMatchObject({
        originalError: { message: 'OAuth2 redirect error or missing code: access_denied' },
      })
      expect(await popup).toMatchObject({
        status: 200,
        body: expect.stringContaining('Failed to authenticate'),
      })
      expect(pb.authStore.isValid).toBe(false)
    })

    it('a WebSocket client subscribed to @oauth2 gets the redirect as a message (GET and form_post)', async () => {
      const c = await openWs(g.url)
      opened.push(c)
      expect(await c.request({ type: 'subscribe', topics: [OAUTH2_TOPIC] })).toMatchObject({ type: 'ok' })
      const got = await browse(`${g.url}/api/oauth2-redirect?state=${c.clientId}&code=abc123`)
      expect(got.status).toBe(200)
      await until(() => c.frames.some((f) => f.type === 'message'), 'the @oauth2 message')
      expect(c.frames.find((f) => f.type === 'message')).toMatchObject({
        topic: OAUTH2_TOPIC,
        data: { state: c.clientId, code: 'abc123' },
      })
      // Apple's response_mode=form_post; a numeric-looking code stays the text it was
      const posted = await fetch(`${g.url}/api/oauth2-redirect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams({ state: c.clientId, code: '00123', user: '{"name":{}}' }).toString(),
      })
      expect(posted.status).toBe(200)
      expect(posted.headers.get('content-type')).toMatch(/^text\/html/)
      // the first message ended the client's @oauth2 subscription (PocketBase v0.38.2)
      await new Promise((r) => setTimeout(r, 200))
      expect(c.frames.filter((f) => f.type === 'message')).toHaveLength(1)
      expect(await c.request({ type: 'subscribe', topics: [OAUTH2_TOPIC] })).toMatchObject({ type: 'ok' })
      const again = await fetch(`${g.url}/api/oauth2-redirect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams({ state: c.clientId, code: '00123', user: '{"name":{}}' }).toString(),
      })
      expect(again.status).toBe(200)
      await until(() => c.frames.filter((f) => f.type === 'message').length === 2, 'the posted message')
      expect(c.frames.filter((f) => f.type === 'message')[1]!.data).toEqual({
        state: c.clientId,
        code: '00123',
      })
    })

    it('a redirect from another address than the client connected from reaches nobody', async () => {
      const c = await openWs(g.url, { localAddress: '127.0.0.2' })
      opened.push(c)
      expect(await c.request({ type: 'subscribe', topics: [OAUTH2_TOPIC] })).toMatchObject({ type: 'ok' })
      const url = `${g.url}/api/oauth2-redirect?state=${c.clientId}&code=stolen`
      expect((await browse(url, 'text/html', '127.0.0.3')).status).toBe(200)
      await new Promise((r) => setTimeout(r, 300))
      expect(c.frames.filter((f) => f.type === 'message')).toEqual([])
      // from the client's own address it arrives
      expect((await browse(url.replace('stolen', 'mine'), 'text/html', '127.0.0.2')).status).toBe(200)
      await until(() => c.frames.some((f) => f.type === 'message'), 'the @oauth2 message')
      expect(c.frames.filter((f) => f.type === 'message').map((f) => f.data)).toEqual([
        { state: c.clientId, code: 'mine' },
      ])
    })

    it('malformed input is refused with a 400, in PocketBase shape or as a page; others reach only @oauth2 subscribers', async () => {
      const c = await openWs(g.url)
      opened.push(c)
      // connected, but not subscribed to @oauth2
      expect(await c.request({ type: 'subscribe', topics: ['users/*'] })).toMatchObject({ type: 'ok' })
      const json = async (query: string) => {
        const r = await browse(`${g.url}/api/oauth2-redirect${query}`, 'application/json')
        return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> }
      }
      expect(await json('?code=x')).toMatchObject({
        status: 400,
        body: { status: 400, data: { state: { code: 'validation_required' } } },
      })
      // well-formed: published (the client may be on another instance), delivered to no one here
      expect((await browse(`${g.url}/api/oauth2-redirect?state=${c.clientId}&code=x`)).status).toBe(200)
      expect((await browse(`${g.url}/api/oauth2-redirect?state=${'a'.repeat(40)}&code=x`)).status).toBe(200)
      expect(await json(`?state=${'a'.repeat(MAX_CLIENT_ID_LENGTH + 1)}&code=x`)).toMatchObject({
        status: 400,
        body: { data: { state: { code: 'validation_length_too_long' } } },
      })
      expect(await json(`?state=a&code=${'c'.repeat(MAX_OAUTH2_CODE_LENGTH + 1)}`)).toMatchObject({
        status: 400,
        body: { data: { code: { code: 'validation_length_too_long' } } },
      })
      expect(await json(`?state=a&error=${'e'.repeat(MAX_OAUTH2_ERROR_LENGTH + 1)}`)).toMatchObject({
        status: 400,
        body: { data: { error: { code: 'validation_length_too_long' } } },
      })
      expect(await json('?state=a&state=b')).toMatchObject({ status: 400 })
      const page = await browse(`${g.url}/api/oauth2-redirect?code=x`)
      expect(page.status).toBe(400)
      expect(page.body).toContain('Failed to authenticate')
      const badType = await fetch(`${g.url}/api/oauth2-redirect`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'state=x',
      })
      expect(badType.status).toBe(400)
      // at the limits: delivered
      expect(await c.request({ type: 'subscribe', topics: [OAUTH2_TOPIC] })).toMatchObject({ type: 'ok' })
      const atLimit = await browse(
        `${g.url}/api/oauth2-redirect?state=${c.clientId}&code=${'c'.repeat(MAX_OAUTH2_CODE_LENGTH)}`,
      )
      expect(atLimit.status).toBe(200)
      await until(() => c.frames.some((f) => f.type === 'message'), 'the message at the limit')
      expect(c.frames.filter((f) => f.type === 'message')).toHaveLength(1)
    })
  })
}
