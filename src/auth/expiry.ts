import { formatDateTime, parseDateTime } from '../lib/index.js'

/** True when a row `created` at that datetime is older than `durationSeconds` (or unreadable). */
export function hasExpired(created: string, durationSeconds: number, now: Date = new Date()): boolean {
  const at = parseDateTime(created)
  return !at || at.getTime() + durationSeconds * 1000 <= now.getTime()
}

/** The `created` value before which rows of that lifetime have expired (datetimes sort as text). */
export function expiredBefore(durationSeconds: number, now: Date = new Date()): string {
  return formatDateTime(new Date(now.getTime() - durationSeconds * 1000))
}
