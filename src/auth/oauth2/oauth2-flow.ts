import { fieldError, forbidden, GalleyError, isJsonObject, ValidationErrors } from '../../lib/index.js'
import type { RecordRow } from '../../records/index.js'
import { SUPERUSERS_COLLECTION_NAME, type AuthCollection } from '../../schema/index.js'
import type { AuthOptions, AuthResponse, AuthService } from '../auth-service.js'
import { mfaEnabled } from '../mfa.js'
import { IdTokenVerifier } from './id-token.js'
import { linkOrCreate } from './oauth2-linking.js'
import {
  authorizationStart,
  exchangeCode,
  OAuth2ExchangeError,
  resolveProvider,
  type AuthMethodProvider,
} from './provider-client.js'
import { PROVIDER_TIMEOUT_MS } from './provider-http.js'
import { PROVIDERS } from './providers.js'

/** Longest `code`, `codeVerifier` and redirect URL accepted (RFC 7636 verifiers are ≤ 128). */
export const MAX_OAUTH2_CODE_LENGTH = 4096
export const MAX_CODE_VERIFIER_LENGTH = 128
export const MAX_REDIRECT_URL_LENGTH = 2048

/** `GET /api/collections/{c}/auth-methods` (§8.4). */
export interface AuthMethods {
  readonly password: { enabled: boolean; identityFields: string[] }
  readonly oauth2: { enabled: boolean; providers: (AuthMethodProvider & { logo: string; authUrl: string })[] }
  readonly mfa: { enabled: boolean; duration: number }
  readonly otp: { enabled: boolean; duration: number }
  readonly authProviders: (AuthMethodProvider & { authUrl: string })[]
  readonly usernamePassword: boolean
  readonly emailPassword: boolean
}

const oauth2Allowed = (c: AuthCollection) => c.oauth2.enabled && c.name !== SUPERUSERS_COLLECTION_NAME

/**
 * OAuth2 sign-in (§8.4, §8.8): the auth methods a client starts from, and the code exchange that
 * ends in `AuthService.signIn`. Nothing of a flow is stored between the two calls: the client
 * keeps its state and PKCE verifier.
 */
export class OAuth2Flow {
  /** Deadline of one exchange (token, keys, user), PocketBase's 30 s; tests shorten it. */
  timeoutMs = PROVIDER_TIMEOUT_MS
  readonly #auth: AuthService
  readonly #ids = new IdTokenVerifier()

  constructor(auth: AuthService) {
    this.#auth = auth
  }

  authMethods(c: AuthCollection): AuthMethods {
    const pa = c.passwordAuth
    const identityFields = pa.enabled ? [...pa.identityFields] : []
    const providers: AuthMethodProvider[] = []
    if (oauth2Allowed(c)) {
      for (const config of c.oauth2.providers) {
        const p = resolveProvider(config)
        try {
          if (p) providers.push(authorizationStart(p))
        } catch (err) {
          // an endpoint saved before URL checks existed: the provider is left out, not a 500
          this.#auth.deps.logger.warn(
            { collection: c.name, provider: config.name, err: (err as Error).message },
            'oauth2 provider skipped: invalid authorization URL',
          )
        }
      }
    }
    const enabled = (o: { enabled: boolean; duration: number }) => ({
      enabled: o.enabled,
      duration: o.enabled ? o.duration : 0,
    })
    return {
      password: { enabled: pa.enabled, identityFields },
      oauth2: {
        enabled: oauth2Allowed(c),
        providers: providers.map((p) => ({ ...p, logo: '', authUrl: p.authURL })),
      },
      mfa: enabled({ enabled: mfaEnabled(c), duration: c.mfa.duration }),
      otp: enabled(c.otp),
      authProviders: providers.map((p) => ({ ...p, authUrl: p.authURL })),
      usernamePassword: identityFields.includes('username'),
      emailPassword: identityFields.includes('email'),
    }
  }

  /** `GET /api/collections/meta/oauth2-providers`: the implemented providers and their defaults. */
  providers(): Record<string, unknown>[] {
    return [...PROVIDERS.values()].map((s) => ({
      name: s.name,
      displayName: s.displayName,
      logo: '',
      authURL: s.authURL,
      tokenURL: s.tokenURL,
      userInfoURL: s.userInfoURL,
      pkce: s.pkce,
    }))
  }

  /** `POST /api/collections/{c}/auth-with-oauth2` (§8.8); `opts.request` is required (rules, signed-in record). */
  async authWithOAuth2(c: AuthCollection, body: unknown, opts: AuthOptions): Promise<AuthResponse> {
    if (!oauth2Allowed(c)) throw forbidden('The collection is not configured to allow OAuth2 authentication.')
    const input = readInput(c, body)
    const config = c.oauth2.providers.find((p) => p.name === input.provider)
    const provider = config && resolveProvider(config)
    if (!provider) throw invalidProvider()
    const request = opts.request
    if (!request) throw new Error('authWithOAuth2 needs the request context')

    const { logger } = this.#auth.deps
    let exchanged
    try {
      exchanged = await exchangeCode(provider, input, this.#ids, Date.now() + this.timeoutMs)
    } catch (err) {
      if (!(err instanceof OAuth2ExchangeError)) throw err
      logger.debug({ collection: c.name, provider: provider.config.name, err: err.message }, 'oauth2 failed')
      throw new GalleyError(err.step === 'token' ? 'OAUTH2_TOKEN_FAILED' : 'OAUTH2_USER_FAILED')
    }
    const { user } = exchanged
    const { row, isNew } = await linkOrCreate(
      this.#auth.deps,
      c,
      {
        provider: provider.config.name,
        user,
        request: { ...request, context: 'oauth2' },
        createData: input.createData,
      },
      (id, ex): Promise<RecordRow | undefined> => this.#auth.findById(c, id, ex),
    )
    const meta = {
      id: user.id,
      name: user.name,
      username: user.username,
      email: user.email,
      avatarURL: user.avatarURL,
      avatarUrl: user.avatarURL,
      accessToken: exchanged.accessToken,
      refreshToken: exchanged.refreshToken,
      expiry: exchanged.expiry,
      rawUser: user.rawUser,
      isNew,
    }
    return this.#auth.signIn(c, row, 'oauth2', opts, meta)
  }
}

const INVALID_PROVIDER = fieldError(
  'validation_invalid_provider',
  'Provider with the given name is missing or disabled.',
)
const invalidProvider = () => new GalleyError('VALIDATION', undefined, { provider: INVALID_PROVIDER })

interface OAuth2Input {
  readonly provider: string
  readonly code: string
  readonly codeVerifier: string
  readonly redirectURL: string
  readonly createData: Record<string, unknown>
}

/** The body's fields, type- and length-checked, or PocketBase's 400 with the failing fields. */
function readInput(c: AuthCollection, body: unknown): OAuth2Input {
  const input = isJsonObject(body) ? body : {}
  const errors = new ValidationErrors()
  const required = (key: string, v: unknown, max: number): string => {
    if (typeof v !== 'string' || v === '')
      errors.add([key], fieldError('validation_required', 'Cannot be blank.'))
    else if (v.length > max)
      errors.add([key], fieldError('validation_length_too_long', `The maximum length is ${max}.`))
    else return v
    return ''
  }
  const provider = required('provider', input.provider, 100)
  if (provider !== '' && !c.oauth2.providers.some((p) => p.name === provider))
    errors.add(['provider'], INVALID_PROVIDER)
  const code = required('code', input.code, MAX_OAUTH2_CODE_LENGTH)
  let codeVerifier = ''
  if (input.codeVerifier !== undefined && input.codeVerifier !== '') {
    if (typeof input.codeVerifier !== 'string' || input.codeVerifier.length > MAX_CODE_VERIFIER_LENGTH)
      errors.add(['codeVerifier'], fieldError('validation_invalid_value', 'Invalid value.'))
    else codeVerifier = input.codeVerifier
  }
  const redirectKey = input.redirectURL !== undefined ? 'redirectURL' : 'redirectUrl'
  const redirectURL = required(redirectKey, input[redirectKey], MAX_REDIRECT_URL_LENGTH)
  if (redirectURL !== '' && !URL.canParse(redirectURL))
    errors.add([redirectKey], fieldError('validation_is_url', 'Must be a valid url.'))
  let createData: Record<string, unknown> = {}
  if (input.createData !== undefined && input.createData !== null) {
    if (isJsonObject(input.createData)) createData = input.createData
    else errors.add(['createData'], fieldError('validation_invalid_value', 'Invalid value.'))
  }
  errors.throwIfAny('An error occurred while validating the submitted data.')
  return { provider, code, codeVerifier, redirectURL, createData }
}
