import { createHmac, timingSafeEqual } from 'node:crypto'
import { randomDigits } from '../lib/index.js'
import type { AuthCollection } from '../schema/index.js'

/** Marks how `_otps.password` was computed, so a later scheme can coexist with this one. */
const SCHEME = 'hmac-sha256$'
/** Domain separation: the OTP key is derived from the collection's auth token secret, never equal to it. */
const KEY_LABEL = 'galley:otp:v1'

/** A fresh one-time code: `otp.length` decimal digits from the CSPRNG (`crypto.randomInt`). */
export function newOtpCode(c: AuthCollection): string {
  return randomDigits(c.otp.length)
}

/**
 * What `_otps.password` stores for `code`: HMAC-SHA256 keyed with a per-collection secret (derived
 * from `authToken.secret`) over the OTP's id and the code. Not argon2: a code lives minutes, guesses
 * are limited online, and argon2 would share the login hashing semaphore with every OTP request.
 * Binding the id makes equal codes of two OTPs store different values.
 */
export function hashOtpCode(c: AuthCollection, otpId: string, code: string): string {
  const key = createHmac('sha256', c.authToken.secret).update(KEY_LABEL).digest()
  return SCHEME + createHmac('sha256', key).update(`${otpId}\n${code}`).digest('base64url')
}

/** Constant-time check of `code` against the stored value; any other stored form is a mismatch. */
export function otpCodeMatches(c: AuthCollection, otpId: string, code: string, stored: string): boolean {
  const expected = Buffer.from(hashOtpCode(c, otpId, code))
  const actual = Buffer.from(stored)
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}
