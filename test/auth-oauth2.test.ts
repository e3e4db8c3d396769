import { createHash, createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { exportSPKI, importJWK, type JWK } from 'jose'
import { OAuth2Server } from 'oauth2-mock-server'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MAX_PROVIDER_RESPONSE_BYTES } from '../src/auth/index.js'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { authorizeCode, CLIENT_ID, CLIENT_SECRET, failure, providersOf, REDIRECT } from './helpers/oauth2.js'
import { call } from './helpers/rest.js'

/** What the mock provider says about the user signing in: userinfo and id_token claims. */
interface Identity {
  sub: string
  email?: string
  email_verified?: boolean | string
  name?: string
  preferred_username?: string
  picture?: string
  [claim: string]: unknown
}

type TokenHook = (t: { header: Record<string, unknown>; payload: Record<string, unknown> }) => void
type ResponseHook = (body: Record<string, unknown>) => void

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`OAuth2 sign-in on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley
    let su: PocketBase
    let idp: OAuth2Server
    let issuer: string
    let stalled: Server
    let stalledURL: string
    let who: Identity
    let idTokenHook: TokenHook | undefined
    let responseHook: ResponseHook | undefined
    let userinfoHook: ((body: Record<string, unknown>) => void) | undefined

    const providerConfig = (name: string, extra?: Record<string, unknown>) => ({
      name,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      authURL: `${issuer}/authorize`,
      tokenURL: `${issuer}/token`,
      userInfoURL: name === 'apple' ? '' : `${issuer}/userinfo`,
      ...(extra ? { extra } : {}),
    })

    beforeAll(async () => {
      idp = new OAuth2Server()
      await idp.issuer.keys.generate('RS256')
      await idp.start(0, '127.0.0.1')
      issuer = idp.issuer.url!
      idp.service.on('beforeTokenSigning', (token: Parameters<TokenHook>[0]) => {
        // the id_token is the token with an audience; the access token has none
        if (!('aud' in token.payload)) return
        Object.assign(token.payload, who)
        idTokenHook?.(token)
      })
      idp.service.on('beforeResponse', (res: { body: Record<string, unknown> }) => {
        responseHook?.(res.body)
      })
      idp.service.on('beforeUserinfo', (res: { body: Record<string, unknown> }) => {
        res.body = { ...who }
        userinfoHook?.(res.body)
      })
      // a user endpoint that never answers
      stalled = createServer(() => {})
      await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve))
      const addr = stalled.address()
      stalledURL = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/userinfo`

      store = await createStore(kind)
      running = await startGalley(store)
      su = await running.asSuperuser()
      await su.collections.update('users', {
        oauth2: {
          enabled: true,
          mappedFields: { id: '', name: 'name', username: '', avatarURL: 'avatar' },
          providers: [
            providerConfig('oidc'),
            providerConfig('oidc2'),
            { ...providerConfig('oidc3'), userInfoURL: stalledURL },
            providerConfig('google', { issuers: [issuer], jwksURL: `${issuer}/jwks` }),
            providerConfig('apple', { issuers: [issuer], jwksURL: `${issuer}/jwks` }),
          ],
        },
      })
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
      await idp?.stop()
      stalled?.closeAllConnections()
      await new Promise((resolve) => stalled?.close(resolve))
    })
    beforeEach(() => {
      idTokenHook = undefined
      responseHook = undefined
      userinfoHook = undefined
      running.galley.auth.oauth2.timeoutMs = 10_000
    })

    async function signIn(
      identity: Identity,
      opts: { provider?: string; pb?: PocketBase; createData?: Record<string, unknown> } = {},
    ) {
      who = identity
      const pb = opts.pb ?? running.sdk()
      const provider = opts.provider ?? 'oidc'
      const { code, codeVerifier } = await authorizeCode(pb, provider)
      return pb
        .collection('users')
        .authWithOAuth2Code(provider, code, codeVerifier, REDIRECT, opts.createData)
    }

    it('lists the auth methods in PocketBase shape with a fresh state and PKCE pair per call', async () => {
      const { status, body } = await call(running.url, 'GET', '/api/collections/users/auth-methods')
      expect(status).toBe(200)
      expect(Object.keys(body).sort()).toEqual(
        ['authProviders', 'emailPassword', 'mfa', 'oauth2', 'otp', 'password', 'usernamePassword'].sort(),
      )
      expect(body.password).toEqual({ enabled: true, identityFields: ['email'] })
      expect(body.mfa).toEqual({ enabled: false, duration: 0 })
      expect(body.otp).toEqual({ enabled: false, duration: 0 })
      expect(body.usernamePassword).toBe(false)
      expect(body.emailPassword).toBe(true)
      const oauth2 = body.oauth2 as { enabled: boolean; providers: Record<string, string>[] }
      expect(oauth2.enabled).toBe(true)
      expect(oauth2.providers.map((p) => p.name)).toEqual(['oidc', 'oidc2', 'oidc3', 'google', 'apple'])
      const p = oauth2.providers[0]!
      expect(p.state).toMatch(/^[A-Za-z0-9]{30}$/)
      expect(p.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(p.codeChallenge).toBe(createHash('sha256').update(p.codeVerifier!).digest('base64url'))
      expect(p.codeChallengeMethod).toBe('S256')
      expect(p.authURL!.endsWith('&redirect_uri=')).toBe(true)
      expect(p.authUrl).toBe(p.authURL)
      const url = new URL(p.authURL!)
      expect(`${url.origin}${url.pathname}`).toBe(`${issuer}/authorize`)
      expect(url.searchParams.get('client_id')).toBe(CLIENT_ID)
      expect(url.searchParams.get('response_type')).toBe('code')
      expect(url.searchParams.get('state')).toBe(p.state)
      expect(url.searchParams.get('code_challenge')).toBe(p.codeChallenge)
      expect(url.searchParams.get('code_challenge_method')).toBe('S256')
      expect(url.searchParams.get('scope')).toBe('openid profile email')
      const apple = new URL(oauth2.providers[4]!.authURL!)
      expect(apple.searchParams.get('response_mode')).toBe('form_post')
      const legacy = body.authProviders as Record<string, string>[]
      expect(legacy.map((x) => x.name)).toEqual(oauth2.providers.map((x) => x.name))
      expect(legacy[0]!.authUrl).toBe(legacy[0]!.authURL)
      expect(JSON.stringify(body)).not.toContain(CLIENT_SECRET)

      const again = (await call(running.url, 'GET', '/api/collections/users/auth-methods')).body
      const q = (again.oauth2 as { providers: Record<string, string>[] }).providers[0]!
      expect(q.state).not.toBe(p.state)
      expect(q.codeVerifier).not.toBe(p.codeVerifier)

      // the SDK's call (it picks the non-legacy keys with ?fields=)
      const methods = await running.sdk().collection('users').listAuthMethods()
      expect(methods.oauth2.providers).toHaveLength(5)
      expect(Object.keys(methods).sort()).toEqual(['mfa', 'oauth2', 'otp', 'password'])
    })

    it('a collection without OAuth2 lists no providers and refuses the exchange with 403', async () => {
      const { body } = await call(running.url, 'GET', '/api/collections/_superusers/auth-methods')
      expect(body.oauth2).toEqual({ enabled: false, providers: [] })
      const r = await call(running.url, 'POST', '/api/collections/_superusers/auth-with-oauth2', undefined, {
        provider: 'oidc',
        code: 'x',
        redirectURL: REDIRECT,
      })
      expect(r.status).toBe(403)
      expect(r.body.message).toBe('The collection is not configured to allow OAuth2 authentication.')
    })

    it('signs up a new user: mapped name, verified email, link and meta', async () => {
      const res = await signIn({
        sub: 'alice-sub',
        email: 'alice@example.com',
        email_verified: true,
        name: 'Alice',
      })
      expect(res.meta?.isNew).toBe(true)
      expect(res.record.email).toBe('alice@example.com')
      expect(res.record.verified).toBe(true)
      expect(res.record.name).toBe('Alice')
      expect(res.record.avatar).toBe('')
      expect(res.meta).toMatchObject({
        id: 'alice-sub',
        name: 'Alice',
        email: 'alice@example.com',
        rawUser: { sub: 'alice-sub', name: 'Alice' },
      })
      expect(typeof res.meta?.accessToken).toBe('string')
      expect(res.meta?.accessToken).not.toBe('')
      expect(res.meta?.refreshToken).not.toBe('')
      expect(res.meta?.expiry).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/)
      expect(await providersOf(su, res.record.id)).toEqual(['oidc:alice-sub'])
      const again = await signIn({
        sub: 'alice-sub',
        email: 'alice@example.com',
        email_verified: true,
        name: 'Changed',
      })
      expect(again.record.id).toBe(res.record.id)
      expect(again.meta?.isNew).toBe(false)
      expect(again.record.name).toBe('Alice')
      expect(await providersOf(su, res.record.id)).toEqual(['oidc:alice-sub'])
    })

    it('links the provider to the record the request is signed in as', async () => {
      const bob = await su.collection('users').create({
        email: 'bob@example.com',
        password: 'bob-password-1',
        passwordConfirm: 'bob-password-1',
      })
      const pb = running.sdk()
      await pb.collection('users').authWithPassword('bob@example.com', 'bob-password-1')
      const res = await signIn(
        { sub: 'bob-elsewhere', email: 'other-bob@example.com', email_verified: true },
        { pb },
      )
      expect(res.record.id).toBe(bob.id)
      expect(res.meta?.isNew).toBe(false)
      expect(await providersOf(su, bob.id)).toEqual(['oidc:bob-elsewhere'])
      // the record signed in keeps its password (it proved it owns the account)
      await running.sdk().collection('users').authWithPassword('bob@example.com', 'bob-password-1')
      // and keeps it when it later signs in through that link, unverified as it is
      const again = await signIn({
        sub: 'bob-elsewhere',
        email: 'other-bob@example.com',
        email_verified: true,
      })
      expect(again.record.id).toBe(bob.id)
      expect(again.record.verified).toBe(false)
      await running.sdk().collection('users').authWithPassword('bob@example.com', 'bob-password-1')
    })

    it('links by email only when the provider verified it', async () => {
      const carol = await su.collection('users').create({
        email: 'carol@example.com',
        password: 'carol-password',
        passwordConfirm: 'carol-password',
        verified: true,
      })
      const dave = await su.collection('users').create({
        email: 'dave@example.com',
        password: 'dave-password',
        passwordConfirm: 'dave-password',
        verified: true,
      })
      const linked = await signIn({ sub: 'carol-sub', email: 'carol@example.com', email_verified: true })
      expect(linked.record.id).toBe(carol.id)
      expect(linked.meta?.isNew).toBe(false)
      // carol was verified: her password still works
      await running.sdk().collection('users').authWithPassword('carol@example.com', 'carol-password')

      for (const flag of [false, 'false', undefined, 1]) {
        const r = await failure(
          signIn({
            sub: `dave-impostor-${String(flag)}`,
            email: 'dave@example.com',
            email_verified: flag as boolean,
          }),
        )
        // no verified address: a new record would have no email, which users requires
        expect(r.status).toBe(400)
        expect(await providersOf(su, dave.id)).toEqual([])
      }
      // the string "true" is a verification some providers send
      const ok = await signIn({ sub: 'dave-sub', email: 'dave@example.com', email_verified: 'true' })
      expect(ok.record.id).toBe(dave.id)
    })

    it('CVE-2024-38351: an unverified pre-registration loses its password and sessions to the real owner', async () => {
      const attacker = running.sdk()
      const squat = await attacker.collection('users').create({
        email: 'victim@example.com',
        password: 'attacker-password',
        passwordConfirm: 'attacker-password',
      })
      await attacker.collection('users').authWithPassword('victim@example.com', 'attacker-password')
      const oldToken = attacker.authStore.token
      expect((await call(running.url, 'POST', '/api/collections/users/auth-refresh', oldToken)).status).toBe(
        200,
      )

      const res = await signIn({ sub: 'victim-sub', email: 'victim@example.com', email_verified: true })
      expect(res.record.id).toBe(squat.id)
      expect(res.record.verified).toBe(true)
      const pw = await failure(
        running.sdk().collection('users').authWithPassword('victim@example.com', 'attacker-password'),
      )
      expect(pw).toMatchObject({ status: 400, message: 'Failed to authenticate.' })
      expect((await call(running.url, 'POST', '/api/collections/users/auth-refresh', oldToken)).status).toBe(
        401,
      )
      // the owner's own token works
      expect((await call(running.url, 'POST', '/api/collections/users/auth-refresh', res.token)).status).toBe(
        200,
      )
    })

    it('CVE-2026-44166: createData.email is stored unverified and never links an identity in', async () => {
      // Mallory signs up through one provider claiming Erin's address.
      const mallory = await signIn(
        { sub: 'mallory-sub', email: 'mallory@example.com', email_verified: true },
        { createData: { email: 'erin@example.com', verified: true, password: 'x', passwordConfirm: 'x' } },
      )
      expect(mallory.meta?.isNew).toBe(true)
      expect(mallory.record.email).toBe('erin@example.com')
      expect(mallory.record.verified).toBe(false)
      // Erin signs in through another provider with her verified address.
      const erin = await signIn(
        { sub: 'erin-sub', email: 'erin@example.com', email_verified: true },
        { provider: 'oidc2' },
      )
      expect(erin.record.verified).toBe(true)
      // Mallory's identity no longer reaches the account, and her session ended.
      expect(await providersOf(su, erin.record.id)).toEqual(['oidc2:erin-sub'])
      expect(
        (await call(running.url, 'POST', '/api/collections/users/auth-refresh', mallory.token)).status,
      ).toBe(401)
      const back = await signIn({ sub: 'mallory-sub', email: 'mallory@example.com', email_verified: true })
      expect(back.record.id).not.toBe(erin.record.id)
      expect(back.record.email).toBe('mallory@example.com')

      // Claiming a verified user's address through createData fails and links nothing to that user.
      const frank = await su.collection('users').create({
        email: 'frank@example.com',
        password: 'frank-password',
        passwordConfirm: 'frank-password',
        verified: true,
      })
      const r = await failure(
        signIn(
          { sub: 'mallory-2', email: 'mallory2@example.com', email_verified: true },
          { createData: { email: 'frank@example.com' } },
        ),
      )
      expect(r.status).toBe(400)
      expect(await providersOf(su, frank.id)).toEqual([])
    })

    it('sign-up goes through the createRule with @request.context = "oauth2"', async () => {
      await su.collections.update('users', { createRule: '@request.context != "oauth2"' })
      try {
        const r = await failure(signIn({ sub: 'gina-sub', email: 'gina@example.com', email_verified: true }))
        expect(r).toMatchObject({ status: 400, message: 'Failed to create record.' })
        expect(
          await su.collection('users').getList(1, 1, { filter: 'email = "gina@example.com"' }),
        ).toMatchObject({
          totalItems: 0,
        })
        // the same rule lets a plain create through
        await running.sdk().collection('users').create({
          email: 'gina@example.com',
          password: 'gina-password',
          passwordConfirm: 'gina-password',
        })
      } finally {
        await su.collections.update('users', { createRule: '' })
      }
    })

    it('refuses a wrong code, a mismatched PKCE verifier and bad input', async () => {
      who = { sub: 'henry-sub', email: 'henry@example.com', email_verified: true }
      const pb = running.sdk()
      const { codeVerifier } = await authorizeCode(pb, 'oidc')
      expect(
        await failure(
          pb.collection('users').authWithOAuth2Code('oidc', 'not-a-code', codeVerifier, REDIRECT),
        ),
      ).toMatchObject({ status: 400, message: 'Failed to fetch OAuth2 token.' })

      const { code } = await authorizeCode(pb, 'oidc')
      const other = await authorizeCode(pb, 'oidc')
      expect(
        await failure(pb.collection('users').authWithOAuth2Code('oidc', code, other.codeVerifier, REDIRECT)),
      ).toMatchObject({ status: 400, message: 'Failed to fetch OAuth2 token.' })

      const post = (body: unknown) =>
        call(running.url, 'POST', '/api/collections/users/auth-with-oauth2', undefined, body)
      const missing = await post({})
      expect(missing.status).toBe(400)
      expect(Object.keys(missing.body.data as object).sort()).toEqual(['code', 'provider', 'redirectUrl'])
      const unknown = await post({ provider: 'github', code: 'x', redirectURL: REDIRECT })
      expect((unknown.body.data as Record<string, { code: string }>).provider!.code).toBe(
        'validation_invalid_provider',
      )
      const legacy = await post({ provider: 'oidc', code: 'x', redirectUrl: 'not a url' })
      expect((legacy.body.data as Record<string, { code: string }>).redirectUrl!.code).toBe(
        'validation_is_url',
      )
      // codeVerifier: 128 characters reach the provider (which refuses them), 129 are refused first
      const at = await post({
        provider: 'oidc',
        code: 'x',
        codeVerifier: 'v'.repeat(128),
        redirectURL: REDIRECT,
      })
      expect(at.body.message).toBe('Failed to fetch OAuth2 token.')
      const over = await post({
        provider: 'oidc',
        code: 'x',
        codeVerifier: 'v'.repeat(129),
        redirectURL: REDIRECT,
      })
      expect(Object.keys(over.body.data as object)).toEqual(['codeVerifier'])
      const codeOver = await post({ provider: 'oidc', code: 'c'.repeat(4097), redirectURL: REDIRECT })
      expect(Object.keys(codeOver.body.data as object)).toEqual(['code'])
      const badCreate = await post({ provider: 'oidc', code: 'x', redirectURL: REDIRECT, createData: [1] })
      expect(Object.keys(badCreate.body.data as object)).toEqual(['createData'])
    })

    describe('forged id_tokens are refused', () => {
      let publicJwk: JWK
      let publicPem: string
      beforeAll(async () => {
        publicJwk = idp.issuer.keys.toJSON()[0] as JWK
        publicPem = await exportSPKI(
          (await importJWK(publicJwk, 'RS256')) as Parameters<typeof exportSPKI>[0],
        )
      })
      const forge = async (hook: () => void) => {
        hook()
        return failure(signIn({ sub: 'ivan-sub', email: 'ivan@example.com', email_verified: true }))
      }
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
      const cases: [string, () => void][] = [
        ['another audience', () => (idTokenHook = (t) => void (t.payload.aud = 'someone-else'))],
        ['another issuer', () => (idTokenHook = (t) => void (t.payload.iss = 'https://evil.example'))],
        ['expired', () => (idTokenHook = (t) => void (t.payload.exp = Math.floor(Date.now() / 1000) - 3600))],
        ['another nonce', () => (idTokenHook = (t) => void (t.payload.nonce = 'replayed'))],
        [
          'alg none',
          () =>
            (responseHook = (body) => {
              const [, payload] = String(body.id_token).split('.')
              body.id_token = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`
            }),
        ],
        [
          'HS256 signed with the public key',
          () =>
            (responseHook = (body) => {
              // the hook runs synchronously (the mock does not await it): node's HMAC, not jose's
              const claims = String(body.id_token).split('.')[1]
              const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: publicJwk.kid })}.${claims}`
              const mac = createHmac('sha256', publicPem).update(input).digest('base64url')
              body.id_token = `${input}.${mac}`
            }),
        ],
      ]
      for (const [name, hook] of cases)
        it(name, async () => {
          expect(await forge(hook)).toMatchObject({ status: 400, message: 'Failed to fetch OAuth2 token.' })
          const ivan = await su.collection('users').getList(1, 1, { filter: 'email = "ivan@example.com"' })
          expect(ivan.totalItems).toBe(0)
        })
      it('while an untouched token signs in (control)', async () => {
        const res = await signIn({ sub: 'ivan-sub', email: 'ivan@example.com', email_verified: true })
        expect(res.record.email).toBe('ivan@example.com')
      })
    })

    it('Google reads email_verified; Apple takes the user from the verified id_token', async () => {
      const g = await signIn(
        { sub: 'judy-google', email: 'judy@example.com', email_verified: true, name: 'Judy' },
        { provider: 'google' },
      )
      expect(g.record.verified).toBe(true)
      expect(g.record.name).toBe('Judy')
      const a = await signIn(
        { sub: 'kim-apple', email: 'kim@example.com', email_verified: 'true' },
        { provider: 'apple' },
      )
      expect(a.record.email).toBe('kim@example.com')
      expect(a.record.verified).toBe(true)
      expect(a.meta?.id).toBe('kim-apple')
      // a Kelvin sign folds to "k" in Unicode lower-casing: such an address never links to kim
      const kelvin = await failure(
        signIn(
          { sub: 'kelvin', email: '\u212Aim@example.com', email_verified: true },
          { provider: 'google' },
        ),
      )
      expect(kelvin.status).toBe(400)
      expect(await providersOf(su, a.record.id)).toEqual(['apple:kim-apple'])
      // Apple without an id_token has no user
      responseHook = (body) => void delete body.id_token
      expect(
        await failure(
          signIn({ sub: 'lee-apple', email: 'lee@example.com', email_verified: true }, { provider: 'apple' }),
        ),
      ).toMatchObject({ status: 400, message: 'Failed to fetch OAuth2 user.' })
    })

    it('provider responses are bounded in size and time', async () => {
      // a userinfo body of exactly the limit is read; one byte more is refused
      const sized = (bytes: number) => (body: Record<string, unknown>) => {
        body.pad = ''
        body.pad = 'x'.repeat(bytes - JSON.stringify(body).length)
      }
      userinfoHook = sized(MAX_PROVIDER_RESPONSE_BYTES)
      const ok = await signIn({ sub: 'mia-sub', email: 'mia@example.com', email_verified: true })
      expect((ok.meta?.rawUser as { pad: string }).pad.length).toBeGreaterThan(1000)
      userinfoHook = sized(MAX_PROVIDER_RESPONSE_BYTES + 1)
      expect(
        await failure(signIn({ sub: 'mia-sub', email: 'mia@example.com', email_verified: true })),
      ).toMatchObject({ status: 400, message: 'Failed to fetch OAuth2 user.' })

      running.galley.auth.oauth2.timeoutMs = 500
      const started = Date.now()
      expect(
        await failure(
          signIn({ sub: 'ned-sub', email: 'ned@example.com', email_verified: true }, { provider: 'oidc3' }),
        ),
      ).toMatchObject({ status: 400, message: 'Failed to fetch OAuth2 user.' })
      expect(Date.now() - started).toBeLessThan(5000)
    })

    it('untrusted provider values are type-checked: a non-string subject is refused', async () => {
      userinfoHook = (body) => void (body.sub = { $ne: null })
      expect(await failure(signIn({ sub: 'odd-sub' }))).toMatchObject({
        status: 400,
        message: 'Failed to fetch OAuth2 user.',
      })
    })

    it('external auths are records: the SDK lists and unlinks them', async () => {
      const pb = running.sdk()
      const res = await signIn({ sub: 'oscar-sub', email: 'oscar@example.com', email_verified: true }, { pb })
      const links = await pb.collection('users').listExternalAuths(res.record.id)
      expect(links.map((l) => [l.provider, l.providerId])).toEqual([['oidc', 'oscar-sub']])
      // another user cannot see them
      const alice = await signIn({ sub: 'alice-sub', email: 'alice@example.com', email_verified: true })
      const stranger = running.sdk()
      stranger.authStore.save(alice.token, alice.record)
      expect(await stranger.collection('users').listExternalAuths(res.record.id)).toEqual([])
      expect(await pb.collection('users').unlinkExternalAuth(res.record.id, 'oidc')).toBe(true)
      expect(await pb.collection('users').listExternalAuths(res.record.id)).toEqual([])
      // the verified email still leads back to the same record, which gets linked again
      const again = await signIn({ sub: 'oscar-sub', email: 'oscar@example.com', email_verified: true })
      expect(again.record.id).toBe(res.record.id)
      expect(await providersOf(su, res.record.id)).toEqual(['oidc:oscar-sub'])
    })

    it('_superusers cannot use OAuth2 even when configured', async () => {
      await su.collections.update('_superusers', {
        oauth2: { enabled: true, providers: [providerConfig('oidc')] },
      })
      try {
        const { body } = await call(running.url, 'GET', '/api/collections/_superusers/auth-methods')
        expect(body.oauth2).toEqual({ enabled: false, providers: [] })
        who = { sub: 'root-sub', email: 'admin@example.com', email_verified: true }
        const r = await call(
          running.url,
          'POST',
          '/api/collections/_superusers/auth-with-oauth2',
          undefined,
          {
            provider: 'oidc',
            code: 'x',
            redirectURL: REDIRECT,
          },
        )
        expect(r.status).toBe(403)
      } finally {
        await su.collections.update('_superusers', { oauth2: { enabled: false, providers: [] } })
      }
    })

    it('clientSecret is never returned; providers are validated on save', async () => {
      const one = await call(running.url, 'GET', '/api/collections/users', su.authStore.token)
      const list = await call(running.url, 'GET', '/api/collections?perPage=500', su.authStore.token)
      for (const text of [JSON.stringify(one.body), JSON.stringify(list.body)]) {
        expect(text).toContain(CLIENT_ID)
        expect(text).not.toContain(CLIENT_SECRET)
        expect(text).not.toContain('clientSecret')
      }
      const bad = await failure(
        su.collections.create({
          name: 'members_oauth',
          type: 'auth',
          oauth2: {
            enabled: true,
            providers: [
              { name: 'myspace', clientId: 'a' },
              { name: 'oidc', clientId: 'b' },
              { name: 'github', clientId: 'c', authURL: 'javascript:alert(1)' },
            ],
          },
        }),
      )
      expect(bad.status).toBe(400)
      const providers = (
        bad as unknown as {
          data: { oauth2: { providers: Record<string, Record<string, { code: string }>> } }
        }
      ).data.oauth2.providers
      expect(providers['0']!.name!.code).toBe('validation_invalid_provider')
      expect(providers['1']!.authURL!.code).toBe('validation_required')
      expect(providers['1']!.tokenURL!.code).toBe('validation_required')
      expect(providers['2']!.authURL!.code).toBe('validation_is_url')
    })

    it('lists the supported providers to superusers only', async () => {
      expect((await call(running.url, 'GET', '/api/collections/meta/oauth2-providers')).status).toBe(401)
      const list = await su.collections.getAllOAuth2Providers()
      expect(list.map((p) => p.name).sort()).toEqual(
        ['apple', 'discord', 'github', 'gitlab', 'google', 'microsoft', 'oidc', 'oidc2', 'oidc3'].sort(),
      )
    })
  })
}
