import type { JWTPayload } from 'jose'
import { OAUTH2_PROVIDER_NAMES } from '../../schema/index.js'
import {
  isObject,
  isVerifiedFlag,
  providerId,
  text,
  toOAuth2User,
  type OAuth2User,
  type UserInput,
} from './oauth2-user.js'

/** What a provider's user mapping gets: the access token, verified id_token claims, and GET. */
export interface UserSource {
  readonly userInfoURL: string
  readonly extra: Record<string, unknown>
  /** The verified id_token claims, when the token response had an id_token this provider checks. */
  readonly claims: JWTPayload | undefined
  /** GET `url` with the access token as a bearer; the parsed JSON. */
  get(url: string): Promise<unknown>
}

/** How a provider's id_tokens are verified; absent: the provider's id_tokens are not used at all. */
export interface IdTokenDefaults {
  readonly issuers: readonly string[]
  readonly jwksURL?: string
}

export interface ProviderSpec {
  readonly name: string
  readonly displayName: string
  readonly authURL: string
  readonly tokenURL: string
  readonly userInfoURL: string
  readonly scopes: readonly string[]
  readonly pkce: boolean
  /** Fixed parameters added to the authorization URL. */
  readonly authParams?: Readonly<Record<string, string>>
  /**
   * id_token verification: 'config' = from `extra` (issuer/issuers, jwksURL) or the authorization
   * URL's origin (generic OIDC); undefined = this provider's user comes from its API only.
   */
  readonly idToken?: IdTokenDefaults | 'config'
  /** The user, or undefined when the provider gave nothing usable. */
  fetchUser(src: UserSource): Promise<OAuth2User | undefined>
}

const raw = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {})

/** Userinfo and id_token must describe the same subject (OIDC Core 5.3.2). */
function sameSubject(user: Record<string, unknown>, claims: JWTPayload | undefined): boolean {
  return claims === undefined || providerId(user.sub) === claims.sub
}

/** OpenID Connect userinfo (or the id_token claims when there is no userinfo endpoint). */
async function oidcUser(src: UserSource): Promise<OAuth2User | undefined> {
  const user = src.userInfoURL ? raw(await src.get(src.userInfoURL)) : raw(src.claims)
  if (!sameSubject(user, src.claims)) return undefined
  return toOAuth2User({
    id: user.sub,
    name: user.name,
    username: user.preferred_username,
    email: user.email,
    emailVerified: isVerifiedFlag(user.email_verified),
    avatarURL: user.picture,
    rawUser: user,
  })
}

/** GitHub: the address is the primary one of /user/emails, and only when GitHub verified it. */
async function githubUser(src: UserSource): Promise<OAuth2User | undefined> {
  const user = raw(await src.get(src.userInfoURL))
  const emailsURL = text(src.extra.emailsURL, 2048) || `${src.userInfoURL.replace(/\/+$/, '')}/emails`
  let email = ''
  try {
    const list = await src.get(emailsURL)
    const primary = Array.isArray(list)
      ? list.find((e) => isObject(e) && e.primary === true && e.verified === true)
      : undefined
    if (isObject(primary)) email = text(primary.email)
  } catch {
    // without the user:email scope the list is refused: no verified address then
  }
  return toOAuth2User({
    id: user.id,
    name: user.name,
    username: user.login,
    email,
    emailVerified: email !== '',
    avatarURL: user.avatar_url,
    rawUser: user,
  })
}

/** A user read from the provider's user endpoint through a field mapping. */
const apiUser =
  (map: (user: Record<string, unknown>) => Omit<UserInput, 'rawUser'>) =>
  async (src: UserSource): Promise<OAuth2User | undefined> => {
    const user = raw(await src.get(src.userInfoURL))
    return toOAuth2User({ ...map(user), rawUser: user })
  }

/** GitLab: the primary address counts as verified once GitLab confirmed it (`confirmed_at`). */
const gitlabUser = apiUser((u) => ({
  id: u.id,
  name: u.name,
  username: u.username,
  email: u.email,
  emailVerified: typeof u.confirmed_at === 'string' && u.confirmed_at !== '',
  avatarURL: u.avatar_url,
}))

/**
 * Microsoft Graph `/me`: `mail` is an attribute tenants set freely, not a verified address (the
 * "nOAuth" account takeovers), so it never counts as verified: no linking by email.
 */
const microsoftUser = apiUser((u) => ({ id: u.id, name: u.displayName, email: u.mail, emailVerified: false }))

/**
 * Discord `/users/@me`: `global_name` is the display name and is null until the user sets one;
 * Discord then shows the username, and so does the mapped name.
 */
const discordUser = apiUser((u) => {
  const id = providerId(u.id)
  const avatar = text(u.avatar, 128)
  return {
    id,
    name: text(u.global_name) || u.username,
    username: u.username,
    email: u.email,
    emailVerified: isVerifiedFlag(u.verified),
    avatarURL: id && /^\w+$/.test(avatar) ? `https://cdn.discordapp.com/avatars/${id}/${avatar}.png` : '',
  }
})

/** Apple has no user endpoint: the verified id_token is the user. */
async function appleUser(src: UserSource): Promise<OAuth2User | undefined> {
  if (!src.claims) return undefined
  const claims = raw(src.claims)
  return toOAuth2User({
    id: claims.sub,
    email: claims.email,
    emailVerified: isVerifiedFlag(claims.email_verified),
    rawUser: claims,
  })
}

const oidc = (name: string): ProviderSpec => ({
  name,
  displayName: 'OpenID Connect',
  authURL: '',
  tokenURL: '',
  userInfoURL: '',
  scopes: ['openid', 'profile', 'email'],
  pkce: true,
  idToken: 'config',
  fetchUser: oidcUser,
})

const SPECS: readonly ProviderSpec[] = [
  oidc('oidc'),
  oidc('oidc2'),
  oidc('oidc3'),
  {
    name: 'github',
    displayName: 'GitHub',
    authURL: 'https://github.com/login/oauth/authorize',
    tokenURL: 'https://github.com/login/oauth/access_token',
    userInfoURL: 'https://api.github.com/user',
    scopes: ['read:user', 'user:email'],
    pkce: true,
    fetchUser: githubUser,
  },
  {
    name: 'google',
    displayName: 'Google',
    authURL: 'https://accounts.google.com/o/oauth2/v2/auth',
    tokenURL: 'https://oauth2.googleapis.com/token',
    userInfoURL: 'https://www.googleapis.com/oauth2/v3/userinfo',
    scopes: ['openid', 'profile', 'email'],
    pkce: true,
    idToken: {
      issuers: ['https://accounts.google.com', 'accounts.google.com'],
      jwksURL: 'https://www.googleapis.com/oauth2/v3/certs',
    },
    fetchUser: oidcUser,
  },
  {
    name: 'gitlab',
    displayName: 'GitLab',
    authURL: 'https://gitlab.com/oauth/authorize',
    tokenURL: 'https://gitlab.com/oauth/token',
    userInfoURL: 'https://gitlab.com/api/v4/user',
    scopes: ['read_user'],
    pkce: true,
    fetchUser: gitlabUser,
  },
  {
    name: 'microsoft',
    displayName: 'Microsoft',
    authURL: 'https://login.microsoftonline.com/common/oauth2/v2.0/authorize',
    tokenURL: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
    userInfoURL: 'https://graph.microsoft.com/v1.0/me',
    scopes: ['User.Read'],
    pkce: true,
    fetchUser: microsoftUser,
  },
  {
    name: 'discord',
    displayName: 'Discord',
    authURL: 'https://discord.com/api/oauth2/authorize',
    tokenURL: 'https://discord.com/api/oauth2/token',
    userInfoURL: 'https://discord.com/api/users/@me',
    scopes: ['identify', 'email'],
    pkce: true,
    fetchUser: discordUser,
  },
  {
    name: 'apple',
    displayName: 'Apple',
    authURL: 'https://appleid.apple.com/auth/authorize',
    tokenURL: 'https://appleid.apple.com/auth/token',
    userInfoURL: '',
    scopes: ['name', 'email'],
    pkce: true,
    authParams: { response_mode: 'form_post' },
    idToken: { issuers: ['https://appleid.apple.com'], jwksURL: 'https://appleid.apple.com/auth/keys' },
    fetchUser: appleUser,
  },
]

/** The providers Galley implements, by name (the names collection validation accepts). */
export const PROVIDERS: ReadonlyMap<string, ProviderSpec> = new Map(SPECS.map((s) => [s.name, s]))

for (const name of OAUTH2_PROVIDER_NAMES)
  if (!PROVIDERS.has(name)) throw new Error(`OAuth2 provider ${name} is accepted but not implemented`)
