import { badRequest, fieldError, isJsonObject, notFound, ValidationErrors } from '../lib/index.js'
import type { AuthCollection } from '../schema/index.js'
import type { AuthOptions, AuthResponse, AuthService } from './auth-service.js'

/**
 * Longest impersonation token, in seconds: the bound of every collection token duration (about 3
 * years). PocketBase has none; Galley bounds it so `exp` stays an ordinary number.
 */
export const MAX_IMPERSONATE_DURATION = 94_670_856

/**
 * `duration` of an impersonate body (§8.11): seconds, 0 or absent = the collection's auth token
 * duration. A non-numeric value is a body that could not be loaded (as PocketBase's int binding);
 * a number that is not a whole number of seconds in range is a field error.
 */
export function impersonateDuration(c: AuthCollection, body: unknown): number {
  const input = isJsonObject(body) ? body : {}
  if (body !== undefined && body !== null && !isJsonObject(body))
    throw badRequest('An error occurred while loading the submitted data.')
  const d = input.duration
  if (d === undefined || d === null) return c.authToken.duration
  if (typeof d !== 'number' || !Number.isFinite(d))
    throw badRequest('An error occurred while loading the submitted data.')
  const errors = new ValidationErrors()
  if (!Number.isInteger(d))
    errors.add(['duration'], fieldError('validation_not_integer', 'Must be a whole number of seconds.'))
  else if (d < 0)
    errors.add(
      ['duration'],
      fieldError('validation_min_greater_equal_than_required', 'Must be no less than 0.'),
    )
  else if (d > MAX_IMPERSONATE_DURATION)
    errors.add(
      ['duration'],
      fieldError(
        'validation_max_less_equal_than_required',
        `Must be no greater than ${MAX_IMPERSONATE_DURATION}.`,
      ),
    )
  errors.throwIfAny('An error occurred while validating the submitted data.')
  return d === 0 ? c.authToken.duration : d
}

/**
 * Impersonation (§8.11): the auth response for record `id` of `c` with a non-refreshable token of
 * `duration` seconds. The caller checked that a superuser asks; as in PocketBase neither the
 * authRule (the requester is a superuser) nor MFA applies, and no login alert is sent.
 */
export async function impersonate(
  auth: AuthService,
  c: AuthCollection,
  id: string,
  body: unknown,
  opts: AuthOptions = {},
): Promise<AuthResponse> {
  const row = await auth.findById(c, id)
  if (!row) throw notFound()
  const duration = impersonateDuration(c, body)
  const token = await auth.issueAuthToken(c, row, false, duration)
  return auth.authResponseWithToken(c, row, token, opts)
}
