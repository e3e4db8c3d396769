import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'
import { isObject } from './oauth2-user.js'
import { providerJSON } from './provider-http.js'

/**
 * Signature algorithms an id_token may use: asymmetric only. `none` and the HMAC family are never
 * accepted (an HS256 token "signed" with the provider's public key is the classic confusion).
 */
export const ID_TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]
/** Clock skew tolerated on `exp`/`nbf`/`iat`. */
const CLOCK_TOLERANCE_S = 30
/** How long a fetched key set is used before it is fetched again. */
const JWKS_TTL_MS = 10 * 60_000
/** A key set is fetched again for an unknown key id at most this often. */
const JWKS_REFETCH_MS = 30_000
/** Key sets remembered at once (one per configured issuer; bounded all the same). */
const MAX_CACHED_JWKS = 64

export class IdTokenError extends Error {
  override readonly name = 'IdTokenError'
}

export interface IdTokenCheck {
  /** Accepted `iss` values (exact match). */
  readonly issuers: readonly string[]
  /** Where the issuer publishes its keys; discovered from the first issuer when absent. */
  readonly jwksURL?: string | undefined
  /** `aud` must contain it (and `azp` must equal it when there are several audiences). */
  readonly clientId: string
  /** When set and the token carries a `nonce`, they must be equal. */
  readonly nonce?: string | undefined
  readonly deadline: number
}

interface CachedKeys {
  readonly keys: ReturnType<typeof createLocalJWKSet>
  readonly fetchedAt: number
}

/**
 * Verifies id_tokens against their issuer's published key set. Keys come only from the configured
 * (or discovered) JWKS URL, never from the token's own headers (`jwk`, `jku`, `x5u` are ignored).
 */
export class IdTokenVerifier {
  readonly #cache = new Map<string, CachedKeys>()

  async verify(token: string, check: IdTokenCheck): Promise<JWTPayload> {
    if (check.issuers.length === 0) throw new IdTokenError('no issuer configured for the id_token')
    const jwksURL = check.jwksURL || (await this.#discover(check.issuers[0]!, check.deadline))
    let keys = await this.#keys(jwksURL, check.deadline, false)
    let payload: JWTPayload
    try {
      payload = await this.#verifyWith(token, keys.keys, check)
    } catch (err) {
      // The issuer may have rotated its keys since they were fetched.
      if (!(err instanceof errors.JWKSNoMatchingKey) || Date.now() - keys.fetchedAt < JWKS_REFETCH_MS)
        throw new IdTokenError(`invalid id_token: ${(err as Error).message}`)
      keys = await this.#keys(jwksURL, check.deadline, true)
      try {
        payload = await this.#verifyWith(token, keys.keys, check)
      } catch (again) {
        throw new IdTokenError(`invalid id_token: ${(again as Error).message}`)
      }
    }
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== check.clientId)
      throw new IdTokenError('invalid id_token: azp is not the client id')
    if (check.nonce && payload.nonce !== undefined && payload.nonce !== check.nonce)
      throw new IdTokenError('invalid id_token: nonce mismatch')
    return payload
  }

  async #verifyWith(token: string, keys: CachedKeys['keys'], check: IdTokenCheck): Promise<JWTPayload> {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ID_TOKEN_ALGORITHMS,
      issuer: [...check.issuers],
      audience: check.clientId,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: CLOCK_TOLERANCE_S,
    })
    return payload
  }

  async #keys(url: string, deadline: number, refresh: boolean): Promise<CachedKeys> {
    const cached = this.#cache.get(url)
    if (cached && !refresh && Date.now() - cached.fetchedAt < JWKS_TTL_MS) return cached
    let body: unknown
    try {
      body = await providerJSON(url, { deadline })
    } catch (err) {
      throw new IdTokenError(`cannot fetch the issuer's keys: ${(err as Error).message}`)
    }
    if (!isObject(body) || !Array.isArray(body.keys)) throw new IdTokenError('invalid JWKS document')
    let keys
    try {
      keys = createLocalJWKSet(body as unknown as JSONWebKeySet)
    } catch (err) {
      throw new IdTokenError(`invalid JWKS document: ${(err as Error).message}`)
    }
    const entry = { keys, fetchedAt: Date.now() }
    this.#cache.delete(url)
    if (this.#cache.size >= MAX_CACHED_JWKS) this.#cache.delete(this.#cache.keys().next().value!)
    this.#cache.set(url, entry)
    return entry
  }

  /** The `jwks_uri` of the issuer's OpenID discovery document. */
  async #discover(issuer: string, deadline: number): Promise<string> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
    let doc: unknown
    try {
      doc = await providerJSON(url, { deadline })
    } catch (err) {
      throw new IdTokenError(`cannot discover the issuer's keys: ${(err as Error).message}`)
    }
    if (!isObject(doc) || typeof doc.jwks_uri !== 'string')
      throw new IdTokenError('discovery has no jwks_uri')
    return doc.jwks_uri
  }
}
