/** Application settings, shaped as PocketBase's `/api/settings` (§13.2). */
export interface S3Config {
  enabled: boolean
  bucket: string
  region: string
  endpoint: string
  accessKey: string
  secret: string
  forcePathStyle: boolean
}

export interface RateLimitRule {
  label: string
  audience: '' | '@guest' | '@auth'
  duration: number
  maxRequests: number
}

/** At most `maxRequests` per `duration` seconds. */
export interface AttemptLimit {
  maxRequests: number
  duration: number
}

/**
 * Galley's brute-force guard (not in PocketBase, whose limiter ships disabled): failed attempts at
 * the endpoints that check a password or code, per client IP, per target from one client IP, and
 * per target across all clients. Covered: auth-with-password (target: the identity), auth-with-otp
 * (the otpId), confirm-email-change (the record its token names) and record updates that send
 * `oldPassword`, batched ones included (the record). Not covered, as they check no secret the
 * client chooses: confirm-password-reset and confirm-verification (signed tokens). A client that
 * succeeded on a target before skips the per-IP and per-target windows for it. On by default.
 */
export interface BruteForceSettings {
  enabled: boolean
  perIP: AttemptLimit
  perIdentityAndIP: AttemptLimit
  perIdentity: AttemptLimit
}

export interface Settings {
  meta: {
    appName: string
    appURL: string
    senderName: string
    senderAddress: string
    hideControls: boolean
    accentColor: string
  }
  logs: { maxDays: number; minLevel: number; logIP: boolean; logAuthId: boolean }
  smtp: {
    enabled: boolean
    host: string
    port: number
    username: string
    password: string
    authMethod: string
    tls: boolean
    localName: string
  }
  s3: S3Config
  backups: { cron: string; cronMaxKeep: number; s3: S3Config }
  batch: { enabled: boolean; maxRequests: number; timeout: number; maxBodySize: number }
  rateLimits: { enabled: boolean; excludedIPs: string[]; rules: RateLimitRule[] }
  trustedProxy: { headers: string[]; useLeftmostIP: boolean }
  superuserIPs: string[]
  bruteForce: BruteForceSettings
}

const s3Defaults = (): S3Config => ({
  enabled: false,
  bucket: '',
  region: '',
  endpoint: '',
  accessKey: '',
  secret: '',
  forcePathStyle: false,
})

export function defaultSettings(): Settings {
  return {
    meta: {
      appName: 'Galley',
      appURL: 'http://127.0.0.1:8090',
      senderName: 'Support',
      senderAddress: 'support@example.com',
      hideControls: false,
      accentColor: '',
    },
    logs: { maxDays: 5, minLevel: 0, logIP: true, logAuthId: false },
    smtp: {
      enabled: false,
      host: 'smtp.example.com',
      port: 587,
      username: '',
      password: '',
      authMethod: '',
      tls: false,
      localName: '',
    },
    s3: s3Defaults(),
    backups: { cron: '', cronMaxKeep: 3, s3: s3Defaults() },
    batch: { enabled: false, maxRequests: 50, timeout: 3, maxBodySize: 0 },
    rateLimits: {
      enabled: false,
      excludedIPs: [],
      rules: [
        { label: '*:auth', audience: '', duration: 3, maxRequests: 2 },
        { label: '*:create', audience: '', duration: 5, maxRequests: 20 },
        { label: '/api/batch', audience: '', duration: 1, maxRequests: 3 },
        { label: '/api/', audience: '', duration: 10, maxRequests: 300 },
      ],
    },
    trustedProxy: { headers: [], useLeftmostIP: false },
    superuserIPs: [],
    bruteForce: {
      enabled: true,
      perIP: { maxRequests: 60, duration: 60 },
      perIdentityAndIP: { maxRequests: 10, duration: 60 },
      perIdentity: { maxRequests: 100, duration: 60 },
    },
  }
}

/** Paths of the write-only secrets: kept when a patch omits them or sends them empty, never returned. */
export const SECRET_PATHS: readonly (readonly string[])[] = [
  ['smtp', 'password'],
  ['s3', 'secret'],
  ['backups', 's3', 'secret'],
]
