import { formatDateTime } from '../lib/index.js'
import type { MacroName } from './ast.js'

const DAY_MS = 24 * 60 * 60 * 1000

const utc = (y: number, m: number, d: number, h = 0, min = 0, s = 0, ms = 0): string =>
  formatDateTime(new Date(Date.UTC(y, m, d, h, min, s, ms)))

/** The value of a datetime macro at `now`, in UTC (PocketBase §4.5). */
export function macroValue(name: MacroName, now: Date): string | number {
  const y = now.getUTCFullYear()
  const m = now.getUTCMonth()
  const d = now.getUTCDate()
  switch (name) {
    case '@now':
      return formatDateTime(now)
    case '@yesterday':
      return formatDateTime(new Date(now.getTime() - DAY_MS))
    case '@tomorrow':
      return formatDateTime(new Date(now.getTime() + DAY_MS))
    case '@todayStart':
      return utc(y, m, d)
    case '@todayEnd':
      return utc(y, m, d, 23, 59, 59, 999)
    case '@monthStart':
      return utc(y, m, 1)
    case '@monthEnd':
      return utc(y, m + 1, 0, 23, 59, 59, 999)
    case '@yearStart':
      return utc(y, 0, 1)
    case '@yearEnd':
      return utc(y, 11, 31, 23, 59, 59, 999)
    case '@second':
      return now.getUTCSeconds()
    case '@minute':
      return now.getUTCMinutes()
    case '@hour':
      return now.getUTCHours()
    case '@weekday':
      return now.getUTCDay()
    case '@day':
      return d
    case '@month':
      return m + 1
    case '@year':
      return y
  }
}
