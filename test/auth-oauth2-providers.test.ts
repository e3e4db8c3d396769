import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { OAuth2Server } from 'oauth2-mock-server'
import type PocketBase from 'pocketbase'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createStore, DB_KINDS, startGalley, type RunningGalley, type TestStore } from './helpers/galley.js'
import { authorizeCode, CLIENT_ID, CLIENT_SECRET, failure, providersOf, REDIRECT } from './helpers/oauth2.js'

/**
 * GitHub, GitLab, Discord and Microsoft sign-in end to end: the authorization and token endpoints
 * are an oauth2-mock-server issuer, the user endpoints a fake of each provider's API answering in
 * that API's shape. Each access token the issuer hands out is bound to the user the test signs in
 * as, and the fake API answers only to that token, so a user read means Galley sent the token the
 * provider returned.
 */

type ProviderName = 'github' | 'gitlab' | 'discord' | 'microsoft'

/** A user at a provider: what the provider's API will say about them. */
interface Person {
  /** A number unique in the run: the provider ids derive from it. */
  n: number
  handle: string
  name: string | null
  email: string
  /** Whether the provider verified `email` (Microsoft never says). */
  verified: boolean
}

/** One fake API path's answer. */
interface Route {
  status?: number
  body: unknown
}
type Routes = Record<string, Route>

interface ApiCall {
  path: string
  headers: IncomingHttpHeaders
}

interface TokenCall {
  provider: string
  headers: IncomingHttpHeaders
  body: Record<string, string>
}

/** What Galley should take from a person's provider data. */
interface Mapped {
  id: string
  name: string
  username: string
  avatarURL: string
}

interface ProviderCase {
  /** The scope the authorization URL asks for (the provider's documented names). */
  scope: string
  /** The API paths a sign-in reads, in order. */
  paths: string[]
  routes(p: Person): Routes
  mapped(p: Person): Mapped
  /** Whether the provider can vouch for an address at all. */
  verifies: boolean
}

const ghAvatar = (n: number) => `https://avatars.githubusercontent.com/u/${n}?v=4`
const discordId = (n: number) => `80351110224678${String(n).padStart(5, '0')}` // above 2^53
const discordAvatar = (n: number) => `a_1269e74af4df7417b13759eae50c83${String(n % 100).padStart(2, '0')}`
const graphId = (n: number) => `87d349ed-44d7-43e1-9a83-${String(n).padStart(12, '0')}`

const CASES: Record<ProviderName, ProviderCase> = {
  // GET /user and GET /user/emails (https://docs.github.com/en/rest/users)
  github: {
    scope: 'read:user user:email',
    paths: ['/github/user', '/github-emails/user/emails'],
    routes: (p) => ({
      '/github/user': {
        body: {
          login: p.handle,
          id: p.n,
          node_id: `MDQ6VXNlcj${p.n}`,
          avatar_url: ghAvatar(p.n),
          html_url: `https://github.com/${p.handle}`,
          type: 'User',
          site_admin: false,
          name: p.name,
          company: null,
          blog: '',
          // the public profile address: neither necessarily verified nor the primary one
          email: null,
          created_at: '2020-01-02T03:04:05Z',
        },
      },
      '/github-emails/user/emails': {
        body: [
          {
            email: `${p.n}+${p.handle}@users.noreply.github.com`,
            primary: false,
            verified: true,
            visibility: null,
          },
          { email: p.email, primary: true, verified: p.verified, visibility: 'private' },
        ],
      },
    }),
    mapped: (p) => ({ id: String(p.n), name: p.name ?? '', username: p.handle, avatarURL: ghAvatar(p.n) }),
    verifies: true,
  },
  // GET /api/v4/user (https://docs.gitlab.com/api/users/#retrieve-the-current-user)
  gitlab: {
    scope: 'read_user',
    paths: ['/gitlab/api/v4/user'],
    routes: (p) => ({
      '/gitlab/api/v4/user': {
        body: {
          id: p.n,
          username: p.handle,
          name: p.name,
          state: 'active',
          locked: false,
          avatar_url: `https://gitlab.com/uploads/-/system/user/avatar/${p.n}/avatar.png`,
          web_url: `https://gitlab.com/${p.handle}`,
          created_at: '2019-05-06T07:08:09.123Z',
          public_email: '',
          email: p.email,
          confirmed_at: p.verified ? '2019-05-06T07:10:00.000Z' : null,
          two_factor_enabled: false,
        },
      },
    }),
    mapped: (p) => ({
      id: String(p.n),
      name: p.name ?? '',
      username: p.handle,
      avatarURL: `https://gitlab.com/uploads/-/system/user/avatar/${p.n}/avatar.png`,
    }),
    verifies: true,
  },
  // GET /users/@me (https://discord.com/developers/docs/resources/user#get-current-user)
  discord: {
    scope: 'identify email',
    paths: ['/discord/api/users/@me'],
    routes: (p) => ({
      '/discord/api/users/@me': {
        body: {
          id: discordId(p.n),
          username: p.handle,
          discriminator: '0',
          global_name: p.name,
          avatar: discordAvatar(p.n),
          mfa_enabled: false,
          locale: 'en-US',
          flags: 0,
          premium_type: 0,
          public_flags: 0,
          email: p.email,
          verified: p.verified,
        },
      },
    }),
    mapped: (p) => ({
      id: discordId(p.n),
      // no display name: Discord shows the username
      name: p.name ?? p.handle,
      username: p.handle,
      avatarURL: `https://cdn.discordapp.com/avatars/${discordId(p.n)}/${discordAvatar(p.n)}.png`,
    }),
    verifies: true,
  },
  // Microsoft Graph GET /me (https://learn.microsoft.com/en-us/graph/api/user-get)
  microsoft: {
    scope: 'User.Read',
    paths: ['/graph/v1.0/me'],
    routes: (p) => ({
      '/graph/v1.0/me': {
        body: {
          '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users/$entity',
          businessPhones: [],
          displayName: p.name,
          givenName: null,
          jobTitle: null,
          mail: p.email,
          mobilePhone: null,
          officeLocation: null,
          preferredLanguage: null,
          surname: null,
          userPrincipalName: `${p.handle}@contoso.onmicrosoft.com`,
          id: graphId(p.n),
        },
      },
    }),
    mapped: (p) => ({ id: graphId(p.n), name: p.name ?? '', username: '', avatarURL: '' }),
    verifies: false,
  },
}

const NAMES = Object.keys(CASES) as ProviderName[]

/** The fake provider APIs: answers only bearer tokens the issuer handed out, as the real ones do. */
function fakeApis(tokens: Map<string, Routes>, calls: ApiCall[]): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    calls.push({ path, headers: req.headers })
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify(body))
    }
    // GitHub refuses requests without a User-Agent
    if (!req.headers['user-agent'])
      return send(403, {
        message:
          'Request forbidden by administrative rules. Please make sure your request has a User-Agent header',
      })
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    const routes = bearer === undefined ? undefined : tokens.get(bearer)
    if (req.method !== 'GET') return send(405, { message: 'Method Not Allowed' })
    if (!routes) return send(401, { message: 'Bad credentials' })
    const route = routes[path]
    if (!route) return send(404, { message: 'Not Found' })
    send(route.status ?? 200, route.body)
  })
}

for (const { kind, skip } of DB_KINDS) {
  describe.skipIf(skip)(`OAuth2 GitHub, GitLab, Discord and Microsoft on ${kind}`, () => {
    let store: TestStore
    let running: RunningGalley
    let su: PocketBase
    let idp: OAuth2Server
    let api: Server
    /** The fake API answers a token with the routes of the person it was issued for. */
    const tokens = new Map<string, Routes>()
    const apiCalls: ApiCall[] = []
    const tokenCalls: TokenCall[] = []
    /** The routes the next issued token gets, and the last token issued. */
    let pending: Routes = {}
    let issued = ''
    let serial = 0
    let next = 1000

    const person = (handle: string, over: Partial<Person> = {}): Person => {
      const n = next++
      return {
        n,
        handle: `${handle}${n}`,
        name: `${handle[0]!.toUpperCase()}${handle.slice(1)} ${n}`,
        email: `${handle}${n}@example.com`,
        verified: true,
        ...over,
      }
    }

    beforeAll(async () => {
      idp = new OAuth2Server()
      await idp.issuer.keys.generate('RS256')
      await idp.start(0, '127.0.0.1')
      const issuer = idp.issuer.url!
      idp.service.on(
        'beforeResponse',
        (
          res: { body: Record<string, unknown> },
          req: { headers: IncomingHttpHeaders; body: Record<string, string>; query: Record<string, string> },
        ) => {
          tokenCalls.push({ provider: req.query.p ?? '', headers: req.headers, body: req.body })
          issued = `${req.query.p}-access-${++serial}`
          tokens.set(issued, pending)
          res.body.access_token = issued
        },
      )
      api = fakeApis(tokens, apiCalls)
      await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
      const addr = api.address()
      const apiURL = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`

      store = await createStore(kind)
      running = await startGalley(store)
      su = await running.asSuperuser()
      const users = await su.collections.getOne('users')
      const provider = (name: ProviderName, userInfoURL: string, extra?: Record<string, unknown>) => ({
        name,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        authURL: `${issuer}/authorize`,
        tokenURL: `${issuer}/token?p=${name}`,
        userInfoURL,
        ...(extra ? { extra } : {}),
      })
      await su.collections.update('users', {
        fields: [...users.fields, { name: 'handle', type: 'text' }, { name: 'avatarUrl', type: 'url' }],
        oauth2: {
          enabled: true,
          mappedFields: { id: '', name: 'name', username: 'handle', avatarURL: 'avatarUrl' },
          providers: [
            provider('github', `${apiURL}/github/user`, { emailsURL: `${apiURL}/github-emails/user/emails` }),
            provider('gitlab', `${apiURL}/gitlab/api/v4/user`),
            provider('discord', `${apiURL}/discord/api/users/@me`),
            provider('microsoft', `${apiURL}/graph/v1.0/me`),
          ],
        },
      })
    })
    afterAll(async () => {
      await running?.close()
      await store?.cleanup()
      await idp?.stop()
      api?.closeAllConnections()
      await new Promise((resolve) => api?.close(resolve))
    })
    beforeEach(() => {
      pending = {}
      issued = ''
    })

    /** Signs in at `provider` as whoever `routes` describe; the access token issued is `issued`. */
    async function signIn(
      provider: ProviderName,
      routes: Routes,
      opts: { pb?: PocketBase; createData?: Record<string, unknown> } = {},
    ) {
      pending = routes
      const pb = opts.pb ?? running.sdk()
      const { code, codeVerifier } = await authorizeCode(pb, provider)
      return pb
        .collection('users')
        .authWithOAuth2Code(provider, code, codeVerifier, REDIRECT, opts.createData)
    }

    const usersWithEmail = async (email: string) =>
      (await su.collection('users').getFullList({ filter: su.filter('email = {:email}', { email }) })).length

    const verifiedUser = (email: string) =>
      su.collection('users').create({
        email,
        password: 'account-password',
        passwordConfirm: 'account-password',
        verified: true,
      })

    it('auth-methods asks each provider for its documented scopes with PKCE', async () => {
      const methods = await running.sdk().collection('users').listAuthMethods()
      expect(methods.oauth2.providers.map((p) => [p.name, p.displayName])).toEqual([
        ['github', 'GitHub'],
        ['gitlab', 'GitLab'],
        ['discord', 'Discord'],
        ['microsoft', 'Microsoft'],
      ])
      for (const p of methods.oauth2.providers) {
        const url = new URL(p.authURL)
        expect(url.searchParams.get('scope'), p.name).toBe(CASES[p.name as ProviderName].scope)
        expect(url.searchParams.get('client_id')).toBe(CLIENT_ID)
        expect(url.searchParams.get('code_challenge_method')).toBe('S256')
        expect(url.searchParams.get('code_challenge')).toBe(p.codeChallenge)
        // these providers' id_tokens are not used: no nonce
        expect(url.searchParams.has('nonce')).toBe(false)
      }
    })

    for (const name of NAMES) {
      const c = CASES[name]
      describe(name, () => {
        it('signs up a new user with the mapped fields and meta; a returning user gets the same record', async () => {
          const p = person(`${name}user`)
          // Microsoft never vouches for an address: the sign-up needs one from the client
          const createData = c.verifies ? undefined : { email: p.email }
          const callsBefore = apiCalls.length
          const res = await signIn(name, c.routes(p), { createData })
          const token = issued
          const m = c.mapped(p)
          expect(res.meta?.isNew).toBe(true)
          expect(res.record.email).toBe(p.email)
          expect(res.record.verified).toBe(c.verifies)
          expect(res.record.name).toBe(m.name)
          expect(res.record.handle).toBe(m.username)
          expect(res.record.avatarUrl).toBe(m.avatarURL)
          expect(res.meta).toMatchObject({
            id: m.id,
            name: m.name,
            username: m.username,
            email: c.verifies ? p.email : '',
            avatarURL: m.avatarURL,
            avatarUrl: m.avatarURL,
            accessToken: token,
            isNew: true,
          })
          expect(res.meta?.rawUser).toEqual(c.routes(p)[c.paths[0]!]!.body)
          expect(res.meta?.refreshToken).not.toBe('')
          expect(res.meta?.expiry).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/)
          expect(await providersOf(su, res.record.id)).toEqual([`${name}:${m.id}`])

          // Galley read the user with the token the provider returned, with the headers the APIs need
          const calls = apiCalls.slice(callsBefore)
          expect(calls.map((x) => x.path)).toEqual(c.paths)
          for (const call of calls) {
            expect(call.headers.authorization).toBe(`Bearer ${token}`)
            expect(call.headers['user-agent']).toMatch(/\S/)
            expect(call.headers.accept).toMatch(/^application\/(vnd\.github\+)?json\b/)
          }
          // the token request: client credentials as HTTP Basic, the PKCE verifier, JSON asked for
          // (GitHub answers form-encoded without Accept: application/json)
          const tokenCall = tokenCalls.at(-1)!
          expect(tokenCall.provider).toBe(name)
          expect(tokenCall.headers.accept).toBe('application/json')
          expect(tokenCall.headers.authorization).toBe(
            `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
          )
          expect(tokenCall.body).toMatchObject({ grant_type: 'authorization_code', redirect_uri: REDIRECT })
          expect(tokenCall.body.code_verifier).toMatch(/^[\w-]{43,128}$/)
          expect(tokenCall.body).not.toHaveProperty('client_secret')

          // returning: the link finds the record; the mapped fields are not overwritten
          const again = await signIn(name, c.routes({ ...p, name: 'Renamed', handle: `${p.handle}x` }))
          expect(again.record.id).toBe(res.record.id)
          expect(again.meta?.isNew).toBe(false)
          expect(again.meta?.accessToken).toBe(issued)
          expect(again.record.name).toBe(m.name)
          expect(again.record.handle).toBe(m.username)
          expect(await providersOf(su, res.record.id)).toEqual([`${name}:${m.id}`])
        })

        it('an unverified email never links to an existing account, and signs up unverified', async () => {
          // a provider that verifies addresses: the same person with the address unverified
          const owner = await verifiedUser(`owner-${name}-${next}@example.com`)
          const impostor = person(`${name}imp`, { email: owner.email, verified: false })
          const r = await failure(signIn(name, c.routes(impostor)))
          // no verified address: a new record would have no email, which users requires
          expect(r.status).toBe(400)
          expect(await providersOf(su, owner.id)).toEqual([])
          // even the address it claims, given as createData, belongs to the owner
          const claimed = await failure(
            signIn(name, c.routes(impostor), { createData: { email: owner.email } }),
          )
          expect(claimed.status).toBe(400)
          expect(await providersOf(su, owner.id)).toEqual([])
          expect(await usersWithEmail(owner.email)).toBe(1)

          // an unverified address nobody has: stored, but unverified, when the client sends it
          const fresh = person(`${name}fresh`, { verified: false })
          expect((await failure(signIn(name, c.routes(fresh)))).status).toBe(400)
          const res = await signIn(name, c.routes(fresh), { createData: { email: fresh.email } })
          expect(res.meta?.isNew).toBe(true)
          expect(res.meta?.email).toBe('')
          expect(res.record.email).toBe(fresh.email)
          expect(res.record.verified).toBe(false)
          expect(await providersOf(su, res.record.id)).toEqual([`${name}:${c.mapped(fresh).id}`])
        })

        if (c.verifies)
          it('a verified email links to the existing account', async () => {
            const owner = await verifiedUser(`linked-${name}-${next}@example.com`)
            const p = person(`${name}link`, { email: owner.email })
            const res = await signIn(name, c.routes(p))
            expect(res.record.id).toBe(owner.id)
            expect(res.meta?.isNew).toBe(false)
            expect(res.meta?.email).toBe(owner.email)
            expect(await providersOf(su, owner.id)).toEqual([`${name}:${c.mapped(p).id}`])
          })

        it('a user endpoint that refuses the access token fails the sign-in', async () => {
          const p = person(`${name}tok`)
          // the issuer answers with a token the provider API does not know: it answers 401
          idp.service.once('beforeResponse', (res: { body: Record<string, unknown> }) => {
            res.body.access_token = 'not-the-issued-token'
          })
          expect(await failure(signIn(name, c.routes(p)))).toMatchObject({
            status: 400,
            message: 'Failed to fetch OAuth2 user.',
          })
          expect(await usersWithEmail(p.email)).toBe(0)
        })
      })
    }

    describe('provider specifics', () => {
      it('GitHub: only the primary address, and only when verified; the public profile email is ignored', async () => {
        const owner = await verifiedUser(`gh-owner-${next}@example.com`)
        const other = await verifiedUser(`gh-other-${next}@example.com`)
        const p = person('ghmix')
        const routes = CASES.github.routes(p)
        ;(routes['/github/user']!.body as Record<string, unknown>).email = owner.email
        routes['/github-emails/user/emails'] = {
          body: [
            { email: other.email, primary: false, verified: true, visibility: null },
            { email: owner.email, primary: true, verified: false, visibility: 'public' },
          ],
        }
        expect((await failure(signIn('github', routes))).status).toBe(400)
        expect(await providersOf(su, owner.id)).toEqual([])
        expect(await providersOf(su, other.id)).toEqual([])

        // without the user:email grant GitHub refuses the list (404): no address, no link
        routes['/github-emails/user/emails'] = { status: 404, body: { message: 'Not Found' } }
        expect((await failure(signIn('github', routes))).status).toBe(400)
        const res = await signIn('github', routes, { createData: { email: `ghmix-${p.n}@example.com` } })
        expect(res.record.verified).toBe(false)
        expect(res.meta?.id).toBe(String(p.n))
        expect(await providersOf(su, owner.id)).toEqual([])
      })

      it('GitHub: a user without a name keeps the login as username and no name', async () => {
        const p = person('ghnoname', { name: null })
        const res = await signIn('github', CASES.github.routes(p))
        expect(res.record.name).toBe('')
        expect(res.record.handle).toBe(p.handle)
        expect(res.meta).toMatchObject({ name: '', username: p.handle })
      })

      it('GitLab: an address counts as verified only once confirmed_at is set', async () => {
        const p = person('glconf')
        const routes = CASES.gitlab.routes(p)
        const body = routes['/gitlab/api/v4/user']!.body as Record<string, unknown>
        for (const unconfirmed of [null, '', undefined, true]) {
          body.confirmed_at = unconfirmed
          expect((await failure(signIn('gitlab', routes))).status, String(unconfirmed)).toBe(400)
        }
        body.confirmed_at = '2024-01-01T00:00:00.000Z'
        const res = await signIn('gitlab', routes)
        expect(res.record.verified).toBe(true)
        expect(res.record.email).toBe(p.email)
      })

      it('Discord: snowflake ids stay exact, the display name falls back to the username, no avatar is no URL', async () => {
        const p = person('dcnoname', { name: null })
        const routes = CASES.discord.routes(p)
        ;(routes['/discord/api/users/@me']!.body as Record<string, unknown>).avatar = null
        const res = await signIn('discord', routes)
        expect(res.meta?.id).toBe(discordId(p.n))
        expect(BigInt(discordId(p.n)) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true)
        expect(res.record.name).toBe(p.handle)
        expect(res.record.avatarUrl).toBe('')
        expect(res.meta).toMatchObject({ name: p.handle, username: p.handle, avatarURL: '' })
        expect(await providersOf(su, res.record.id)).toEqual([`discord:${discordId(p.n)}`])
        // "verified" must be the boolean true
        const q = person('dcflag')
        const qRoutes = CASES.discord.routes(q)
        ;(qRoutes['/discord/api/users/@me']!.body as Record<string, unknown>).verified = 1
        expect((await failure(signIn('discord', qRoutes))).status).toBe(400)
      })

      it('Microsoft: mail is never a verified address, not even when it equals the sign-in name', async () => {
        const owner = await verifiedUser(`ms-owner-${next}@contoso.com`)
        const p = person('msmail', { email: owner.email })
        const routes = CASES.microsoft.routes(p)
        ;(routes['/graph/v1.0/me']!.body as Record<string, unknown>).userPrincipalName = owner.email
        expect((await failure(signIn('microsoft', routes))).status).toBe(400)
        expect(await providersOf(su, owner.id)).toEqual([])
        // signed in as the owner, the owner links Microsoft to the account explicitly
        const pb = running.sdk()
        await pb.collection('users').authWithPassword(owner.email, 'account-password')
        const linked = await signIn('microsoft', routes, { pb })
        expect(linked.record.id).toBe(owner.id)
        expect(await providersOf(su, owner.id)).toEqual([`microsoft:${graphId(p.n)}`])
        // and from then on the link, not the address, signs in
        const back = await signIn('microsoft', routes)
        expect(back.record.id).toBe(owner.id)
      })
    })
  })
}
