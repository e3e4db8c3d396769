/** The settings screen's model: what `GET /api/settings` returns, edited in place, and the PATCH of it. */

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/**
 * What `next` changed from `base`: objects key by key, arrays and values whole (the server replaces
 * an array it is sent). A key `base` lacks whose new value is `''` is a write-only secret left empty
 * ("keep the stored one"), not a change. An emptied number input (`undefined`) is sent as `null`, so
 * the server says what is wrong with it rather than the change vanishing from the JSON.
 */
export function changes(base: unknown, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const old = isObject(base) ? base : {}
  for (const [k, v] of Object.entries(next)) {
    if (!(k in old) && v === '') continue
    if (isObject(v) && isObject(old[k])) {
      const sub = changes(old[k], v)
      if (Object.keys(sub).length) out[k] = sub
    } else if (!same(old[k], v)) out[k] = v === undefined ? null : v
  }
  return out
}

/** Write-only secrets the API never returns; the form shows them empty (= keep). */
const SECRETS: readonly (readonly [string, string])[] = [
  ['smtp', 'password'],
  ['s3', 'secret'],
]

/** A form draft of the settings: a copy with the write-only secrets present and empty. */
export function draftOf(settings: Record<string, unknown>): Record<string, Record<string, unknown>> {
  // (JSON, not structuredClone: `settings` may be a reactive proxy, which cannot be cloned)
  const draft = JSON.parse(JSON.stringify(settings)) as Record<string, Record<string, unknown>>
  for (const [section, key] of SECRETS) if (isObject(draft[section])) draft[section][key] = ''
  return draft
}

/** The `id` of a settings input for a field path (`rateLimits.rules.0.label`); its error is `<id>-error`. */
export const inputId = (path: string) => `settings-${path.replace(/\./g, '-')}`

/** The rate limit audiences of PocketBase's settings (`''` = everyone). */
export const AUDIENCES: readonly { value: string; label: string }[] = [
  { value: '', label: 'Everyone' },
  { value: '@guest', label: 'Guests only' },
  { value: '@auth', label: 'Signed-in only' },
]

/** The templates `POST /api/settings/test/email` sends, as PocketBase's dashboard offers them. */
export const TEST_TEMPLATES: readonly { value: string; label: string }[] = [
  { value: 'verification', label: 'Verification' },
  { value: 'password-reset', label: 'Password reset' },
  { value: 'email-change', label: 'Confirm email change' },
  { value: 'otp', label: 'One-time password' },
  { value: 'login-alert', label: 'Login alert' },
]
