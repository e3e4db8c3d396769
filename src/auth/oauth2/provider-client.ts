import { createHash } from 'node:crypto'
import { CodeChallengeMethod, generateCodeVerifier, OAuth2Client, OAuth2Tokens } from 'arctic'
import type { JWTPayload } from 'jose'
import { formatDateTime, randomString } from '../../lib/index.js'
import type { OAuth2Provider } from '../../schema/index.js'
import { IdTokenError, type IdTokenVerifier } from './id-token.js'
import { isObject, type OAuth2User } from './oauth2-user.js'
import { ProviderHttpError, providerJSON } from './provider-http.js'
import { PROVIDERS, type IdTokenDefaults, type ProviderSpec } from './providers.js'

/** A configured provider over its built-in defaults (config endpoints override them, as in PocketBase). */
export interface ResolvedProvider {
  readonly spec: ProviderSpec
  readonly config: OAuth2Provider
  readonly authURL: string
  readonly tokenURL: string
  readonly userInfoURL: string
  readonly pkce: boolean
  readonly extra: Record<string, unknown>
}

export function resolveProvider(config: OAuth2Provider): ResolvedProvider | undefined {
  const spec = PROVIDERS.get(config.name)
  if (!spec) return undefined
  return {
    spec,
    config,
    authURL: config.authURL || spec.authURL,
    tokenURL: config.tokenURL || spec.tokenURL,
    userInfoURL: config.userInfoURL || spec.userInfoURL,
    pkce: config.pkce ?? spec.pkce,
    extra: isObject(config.extra) ? config.extra : {},
  }
}

/** RFC 7636 S256 challenge of a verifier. */
export const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url')

/**
 * The OIDC `nonce` sent with the authorization request: derived from the PKCE verifier, so the
 * server stores nothing and still binds the id_token to the client that started the flow.
 */
export const nonceFor = (verifier: string): string => s256(`galley-oidc-nonce:${verifier}`)

/** One provider entry of `auth-methods` (§8.4): fresh state and PKCE pair, nothing stored. */
export interface AuthMethodProvider {
  readonly name: string
  readonly displayName: string
  readonly state: string
  readonly authURL: string
  readonly codeVerifier: string
  readonly codeChallenge: string
  readonly codeChallengeMethod: string
}

export function authorizationStart(p: ResolvedProvider): AuthMethodProvider {
  const state = randomString(30)
  const codeVerifier = p.pkce ? generateCodeVerifier() : ''
  // The redirect URL is the client's: it is appended to the URL by the client (`&redirect_uri=`).
  const client = new OAuth2Client(p.config.clientId, null, null)
  const url = p.pkce
    ? client.createAuthorizationURLWithPKCE(p.authURL, state, CodeChallengeMethod.S256, codeVerifier, [
        ...p.spec.scopes,
      ])
    : client.createAuthorizationURL(p.authURL, state, [...p.spec.scopes])
  for (const [k, v] of Object.entries(p.spec.authParams ?? {})) url.searchParams.set(k, v)
  if (p.spec.idToken && codeVerifier) url.searchParams.set('nonce', nonceFor(codeVerifier))
  return {
    name: p.config.name,
    displayName: p.config.displayName || p.spec.displayName,
    state,
    authURL: `${url.toString()}&redirect_uri=`,
    codeVerifier,
    codeChallenge: codeVerifier ? s256(codeVerifier) : '',
    codeChallengeMethod: codeVerifier ? 'S256' : '',
  }
}

/** Why the exchange failed: the step decides the client-facing message (§8.8). */
export class OAuth2ExchangeError extends Error {
  override readonly name = 'OAuth2ExchangeError'
  constructor(
    readonly step: 'token' | 'user',
    message: string,
  ) {
    super(message)
  }
}

export interface ExchangeResult {
  readonly user: OAuth2User
  readonly accessToken: string
  readonly refreshToken: string
  /** When the access token expires, as PocketBase's datetime text; '' when the provider did not say. */
  readonly expiry: string
}

const stringList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : []

/** The issuers and key set an id_token of this provider is checked against; undefined: not used. */
function idTokenSettings(p: ResolvedProvider): IdTokenDefaults | undefined {
  const spec = p.spec.idToken
  if (!spec) return undefined
  const issuers = [...stringList(p.extra.issuers), ...stringList([p.extra.issuer])]
  const jwksURL = typeof p.extra.jwksURL === 'string' && p.extra.jwksURL !== '' ? p.extra.jwksURL : undefined
  if (spec === 'config') {
    let origin: string[] = []
    try {
      origin = [new URL(p.authURL).origin]
    } catch {
      // validated on save; an unusable URL fails the exchange anyway
    }
    return { issuers: issuers.length > 0 ? issuers : origin, ...(jwksURL ? { jwksURL } : {}) }
  }
  return {
    issuers: issuers.length > 0 ? issuers : spec.issuers,
    ...(jwksURL || spec.jwksURL ? { jwksURL: jwksURL ?? spec.jwksURL } : {}),
  }
}

/**
 * The authorization code exchange (§8.8) and the user behind it. The token request is arctic's
 * (`OAuth2Client.validateAuthorizationCode`: grant, code, redirect_uri, code_verifier, client
 * credentials as HTTP Basic, or in the body for Apple) sent through `providerJSON` (arctic's own
 * sender has no deadline and no size cap); the response is read with arctic's `OAuth2Tokens`.
 */
export async function exchangeCode(
  p: ResolvedProvider,
  input: { code: string; codeVerifier: string; redirectURL: string },
  ids: IdTokenVerifier,
  deadline: number,
): Promise<ExchangeResult> {
  const body = new URLSearchParams()
  body.set('grant_type', 'authorization_code')
  body.set('code', input.code)
  body.set('redirect_uri', input.redirectURL)
  if (input.codeVerifier !== '') body.set('code_verifier', input.codeVerifier)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const secret = p.config.clientSecret
  if (secret === '' || p.spec.name === 'apple') {
    body.set('client_id', p.config.clientId)
    if (secret !== '') body.set('client_secret', secret)
  } else headers.authorization = `Basic ${Buffer.from(`${p.config.clientId}:${secret}`).toString('base64')}`

  let tokens: OAuth2Tokens
  let accessToken: string
  try {
    const data = await providerJSON(p.tokenURL, { method: 'POST', headers, body, deadline })
    if (!isObject(data)) throw new Error('token response is not an object')
    tokens = new OAuth2Tokens(data)
    accessToken = tokens.accessToken()
    if (accessToken === '' || accessToken.length > 16_384) throw new Error('unusable access token')
  } catch (err) {
    throw new OAuth2ExchangeError('token', describe(err))
  }

  let claims: JWTPayload | undefined
  const settings = idTokenSettings(p)
  const data = tokens.data as Record<string, unknown>
  if (settings && data.id_token !== undefined) {
    if (typeof data.id_token !== 'string') throw new OAuth2ExchangeError('token', 'id_token is not a string')
    try {
      claims = await ids.verify(data.id_token, {
        ...settings,
        clientId: p.config.clientId,
        nonce: input.codeVerifier ? nonceFor(input.codeVerifier) : undefined,
        deadline,
      })
    } catch (err) {
      throw new OAuth2ExchangeError('token', describe(err))
    }
  }

  let user: OAuth2User | undefined
  try {
    user = await p.spec.fetchUser({
      userInfoURL: p.userInfoURL,
      extra: p.extra,
      claims,
      get: (url) => providerJSON(url, { headers: { authorization: `Bearer ${accessToken}` }, deadline }),
    })
  } catch (err) {
    throw new OAuth2ExchangeError('user', describe(err))
  }
  if (!user) throw new OAuth2ExchangeError('user', 'the provider returned no usable user')

  const refreshToken = typeof data.refresh_token === 'string' ? data.refresh_token : ''
  let expiry = ''
  const expiresIn = data.expires_in
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 && expiresIn < 1e9)
    expiry = formatDateTime(new Date(Date.now() + expiresIn * 1000))
  return { user, accessToken, refreshToken, expiry }
}

function describe(err: unknown): string {
  if (err instanceof ProviderHttpError || err instanceof IdTokenError) return err.message
  return err instanceof Error ? err.message : String(err)
}
