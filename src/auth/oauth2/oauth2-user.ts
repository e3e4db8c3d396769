/**
 * The user a provider reports, reduced to what sign-in uses. Provider data is untrusted: every
 * value is type-checked and length-capped here, and `email` is only the address the provider
 * asserts it verified (RELIABILITY API10).
 */
export interface OAuth2User {
  /** The provider's stable subject id: with the provider name, the identity (A11). */
  readonly id: string
  readonly name: string
  readonly username: string
  /** The verified email, or '' when the provider gave none or did not say it was verified. */
  readonly email: string
  readonly avatarURL: string
  readonly rawUser: Record<string, unknown>
}

/** Longest provider user id kept (longer: the user is refused). */
export const MAX_PROVIDER_USER_ID_LENGTH = 255
/** Longest name/username kept (longer values are dropped, not cut). */
export const MAX_PROVIDER_TEXT_LENGTH = 255
/** Longest avatar URL kept. */
export const MAX_PROVIDER_URL_LENGTH = 2048
/** Email addresses longer than RFC 5321's 254 are not addresses. */
const MAX_EMAIL_LENGTH = 254
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A string of at most `max` characters without control characters, else ''. */
export function text(v: unknown, max = MAX_PROVIDER_TEXT_LENGTH): string {
  if (typeof v !== 'string' || v.length > max) return ''
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) return ''
  return v.trim()
}

/** A provider id: a non-empty string or a safe integer (GitHub, GitLab), else ''. */
export function providerId(v: unknown): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v)
  return text(v, MAX_PROVIDER_USER_ID_LENGTH)
}

/**
 * A plausible email address, else ''. Only printable ASCII: provider emails are matched against
 * stored ones ignoring case, and case folding beyond ASCII differs between JavaScript, SQLite's
 * `lower()` (ASCII only) and PostgreSQL's (Unicode), so `\u212Aim@x.com` (a Kelvin sign) could
 * otherwise link to `kim@x.com` on one database and not the other.
 */
export function email(v: unknown): string {
  const s = text(v, MAX_EMAIL_LENGTH)
  return EMAIL.test(s) && /^[\x21-\x7e]+$/.test(s) ? s : ''
}

/** An http(s) URL, else ''. */
export function httpURL(v: unknown): string {
  const s = text(v, MAX_PROVIDER_URL_LENGTH)
  if (s === '') return ''
  try {
    const u = new URL(s)
    return u.protocol === 'https:' || u.protocol === 'http:' ? s : ''
  } catch {
    return ''
  }
}

/**
 * Whether a provider says an address is verified: only the boolean true, or the string "true" that
 * some providers (Apple, Cognito) send. Anything else, missing included, is "not verified".
 */
export function isVerifiedFlag(v: unknown): boolean {
  return v === true || v === 'true'
}

export interface UserInput {
  readonly id: unknown
  readonly name?: unknown
  readonly username?: unknown
  readonly email?: unknown
  /** Whether the provider vouches for `email`. */
  readonly emailVerified: boolean
  readonly avatarURL?: unknown
  readonly rawUser: Record<string, unknown>
}

/** The checked user, or undefined when the provider gave no usable id. */
export function toOAuth2User(input: UserInput): OAuth2User | undefined {
  const id = providerId(input.id)
  if (id === '') return undefined
  return {
    id,
    name: text(input.name),
    username: text(input.username),
    email: input.emailVerified ? email(input.email) : '',
    avatarURL: httpURL(input.avatarURL),
    rawUser: input.rawUser,
  }
}
