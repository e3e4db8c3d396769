/** Datetimes are `YYYY-MM-DD HH:MM:SS.sssZ` text in UTC on both databases. */
export function formatDateTime(date: Date): string {
  return date.toISOString().replace('T', ' ')
}

export function nowDateTime(): string {
  return formatDateTime(new Date())
}

const CANONICAL = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/

/**
 * Parses the canonical form, RFC 3339 / ISO 8601 (with `T` or a space), a bare `YYYY-MM-DD`, or unix
 * seconds. Returns undefined for anything else.
 */
export function parseDateTime(input: unknown): Date | undefined {
  if (input instanceof Date) return Number.isNaN(input.getTime()) ? undefined : input
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return undefined
    const d = new Date(input * 1000)
    return Number.isNaN(d.getTime()) ? undefined : d
  }
  if (typeof input !== 'string') return undefined
  const s = input.trim()
  if (s === '') return undefined
  if (/^-?\d+$/.test(s)) return parseDateTime(Number(s))
  let iso = s
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) iso = `${s}T00:00:00Z`
  else if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(s)) {
    iso = s.replace(' ', 'T')
    if (!/(Z|[+-]\d{2}:?\d{2})$/.test(iso)) iso += 'Z'
  } else return undefined
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? undefined : d
}

export function isCanonicalDateTime(s: string): boolean {
  return CANONICAL.test(s)
}
