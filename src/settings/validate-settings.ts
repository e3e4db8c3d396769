import { isIP } from 'node:net'
import { fieldError, type ValidationErrors } from '../lib/index.js'
import type { S3Config, Settings } from './settings.js'

const HEADER = /^[A-Za-z0-9-]{1,100}$/
const COLOR = /^(#[0-9a-fA-F]{3,8})?$/
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const LABEL = /^((GET|POST|PUT|PATCH|DELETE|HEAD) )?\/[\w/.:*-]*$|^(\*|\w+):\w+$|^\w+$/

const required = () => fieldError('validation_required', 'Cannot be blank.')
const range = (min: number, max: number) =>
  fieldError('validation_out_of_range', `Must be between ${min} and ${max}.`)

function isUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

function checkInt(v: number, min: number, max: number, path: string[], errors: ValidationErrors): void {
  if (!Number.isInteger(v) || v < min || v > max) errors.add(path, range(min, max))
}

function validateS3(s3: S3Config, path: string[], errors: ValidationErrors): void {
  if (!s3.enabled) return
  for (const key of ['bucket', 'region', 'endpoint', 'accessKey', 'secret'] as const)
    if (s3[key] === '') errors.add([...path, key], required())
  if (s3.endpoint && !isUrl(s3.endpoint))
    errors.add([...path, 'endpoint'], fieldError('validation_is_url', 'Must be a valid URL.'))
}

/** Checks a merged settings object; errors use the paths of §13.2. */
export function validateSettings(s: Settings, errors: ValidationErrors): void {
  if (s.meta.appName.trim() === '') errors.add(['meta', 'appName'], required())
  else if (s.meta.appName.length > 255) errors.add(['meta', 'appName'], range(1, 255))
  if (!isUrl(s.meta.appURL))
    errors.add(['meta', 'appURL'], fieldError('validation_is_url', 'Must be a valid URL.'))
  if (s.meta.senderAddress && !EMAIL.test(s.meta.senderAddress))
    errors.add(['meta', 'senderAddress'], fieldError('validation_is_email', 'Must be a valid email address.'))
  if (!COLOR.test(s.meta.accentColor))
    errors.add(['meta', 'accentColor'], fieldError('validation_invalid_value', 'Must be a hex color.'))

  checkInt(s.logs.maxDays, 0, 100_000, ['logs', 'maxDays'], errors)
  checkInt(s.logs.minLevel, -100, 100, ['logs', 'minLevel'], errors)

  if (s.smtp.enabled) {
    if (s.smtp.host === '') errors.add(['smtp', 'host'], required())
    checkInt(s.smtp.port, 1, 65_535, ['smtp', 'port'], errors)
  }
  if (!['', 'PLAIN', 'LOGIN'].includes(s.smtp.authMethod))
    errors.add(['smtp', 'authMethod'], fieldError('validation_in_invalid', 'Must be PLAIN or LOGIN.'))

  validateS3(s.s3, ['s3'], errors)
  validateS3(s.backups.s3, ['backups', 's3'], errors)
  checkInt(s.backups.cronMaxKeep, 1, 10_000, ['backups', 'cronMaxKeep'], errors)
  if (s.backups.cron !== '' && s.backups.cron.trim().split(/\s+/).length !== 5)
    errors.add(
      ['backups', 'cron'],
      fieldError('validation_invalid_cron', 'Must be a cron expression of 5 fields.'),
    )

  checkInt(s.batch.maxRequests, 1, 10_000, ['batch', 'maxRequests'], errors)
  checkInt(s.batch.timeout, 1, 3600, ['batch', 'timeout'], errors)
  checkInt(s.batch.maxBodySize, 0, Number.MAX_SAFE_INTEGER, ['batch', 'maxBodySize'], errors)

  s.rateLimits.excludedIPs.forEach((ip, i) => {
    if (isIP(ip) === 0)
      errors.add(
        ['rateLimits', 'excludedIPs', i],
        fieldError('validation_is_ip', 'Must be a valid IP address.'),
      )
  })
  s.rateLimits.rules.forEach((r, i) => {
    const at = ['rateLimits', 'rules', String(i)]
    if (!LABEL.test(r.label))
      errors.add([...at, 'label'], fieldError('validation_invalid_value', 'Invalid rate limit label.'))
    if (!['', '@guest', '@auth'].includes(r.audience))
      errors.add([...at, 'audience'], fieldError('validation_in_invalid', 'Must be empty, @guest or @auth.'))
    checkInt(r.duration, 1, 86_400, [...at, 'duration'], errors)
    checkInt(r.maxRequests, 1, 1_000_000, [...at, 'maxRequests'], errors)
  })
  s.trustedProxy.headers.forEach((h, i) => {
    if (!HEADER.test(h))
      errors.add(
        ['trustedProxy', 'headers', i],
        fieldError('validation_invalid_value', 'Invalid header name.'),
      )
  })
  const bf = s.bruteForce
  for (const key of ['perIP', 'perIdentityAndIP', 'perIdentity'] as const) {
    checkInt(bf[key].maxRequests, 1, 1_000_000, ['bruteForce', key, 'maxRequests'], errors)
    checkInt(bf[key].duration, 1, 86_400, ['bruteForce', key, 'duration'], errors)
  }
  // A ceiling one client can reach alone would let any client lock the account out (ASVS 6.3.1).
  if (bf.perIdentity.maxRequests <= bf.perIdentityAndIP.maxRequests)
    errors.add(
      ['bruteForce', 'perIdentity', 'maxRequests'],
      fieldError('validation_invalid_value', 'Must be greater than perIdentityAndIP.maxRequests.'),
    )
  s.superuserIPs.forEach((ip, i) => {
    if (isIP(ip) === 0)
      errors.add(['superuserIPs', i], fieldError('validation_is_ip', 'Must be a valid IP address.'))
  })
}
