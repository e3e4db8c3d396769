import type { CollectionModel } from 'pocketbase'

/** An auth collection's token lifetimes (seconds), as its options name them (§6.2). */
export const TOKEN_KINDS: readonly { key: string; label: string }[] = [
  { key: 'authToken', label: 'Auth token' },
  { key: 'verificationToken', label: 'Verification token' },
  { key: 'passwordResetToken', label: 'Password reset token' },
  { key: 'emailChangeToken', label: 'Email change token' },
  { key: 'fileToken', label: 'File access token' },
]

/** One OAuth2 provider as the form edits it; `clientSecret` is write-only: empty keeps the stored one. */
export interface ProviderDraft {
  name: string
  clientId: string
  clientSecret: string
  displayName: string
  authURL: string
  tokenURL: string
  userInfoURL: string
  [other: string]: unknown
}

export interface AuthOptionsDraft {
  durations: Record<string, number | null | undefined>
  oauth2Enabled: boolean
  providers: ProviderDraft[]
}

const text = (v: unknown) => (typeof v === 'string' ? v : '')

export function authOptionsDraft(c: CollectionModel): AuthOptionsDraft {
  const opts = c as unknown as Record<string, { duration?: number } | undefined>
  const oauth2 = (c.oauth2 ?? {}) as { enabled?: boolean; providers?: Record<string, unknown>[] }
  return {
    durations: Object.fromEntries(TOKEN_KINDS.map((t) => [t.key, opts[t.key]?.duration ?? null])),
    oauth2Enabled: oauth2.enabled === true,
    providers: (oauth2.providers ?? []).map((p) => ({
      ...p,
      name: text(p.name),
      clientId: text(p.clientId),
      clientSecret: '',
      displayName: text(p.displayName),
      authURL: text(p.authURL),
      tokenURL: text(p.tokenURL),
      userInfoURL: text(p.userInfoURL),
    })),
  }
}

export const newProvider = (): ProviderDraft => ({
  name: '',
  clientId: '',
  clientSecret: '',
  displayName: '',
  authURL: '',
  tokenURL: '',
  userInfoURL: '',
})

/**
 * The collection PATCH for the draft: every token duration (`{duration}` alone keeps each token's
 * secret) and the OAuth2 options (`_superusers` has none to set); a provider's empty secret is left
 * out, which keeps the stored one.
 */
export function authOptionsPatch(d: AuthOptionsDraft, withOAuth2: boolean): Record<string, unknown> {
  const body: Record<string, unknown> = {}
  for (const t of TOKEN_KINDS) body[t.key] = { duration: d.durations[t.key] ?? null }
  if (withOAuth2)
    body.oauth2 = {
      enabled: d.oauth2Enabled,
      providers: d.providers.map(({ clientSecret, ...rest }) =>
        clientSecret ? { ...rest, clientSecret } : rest,
      ),
    }
  return body
}
