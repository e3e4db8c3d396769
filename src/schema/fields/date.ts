import {
  fieldError,
  formatDateTime,
  isCanonicalDateTime,
  parseDateTime,
  type FieldError,
} from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { requiredError, unsupportedValueType } from './values.js'

/** A submitted date in the canonical form, or '' when it does not parse (as PocketBase, silently). */
export function toDateValue(raw: unknown): string {
  if (raw === '' || raw === null || raw === undefined) return ''
  const d = parseDateTime(raw)
  if (!d) return ''
  const s = formatDateTime(d)
  return isCanonicalDateTime(s) ? s : '' // years outside 0000-9999
}

/** The fractional seconds Go prints: trailing zeros dropped, nothing for whole seconds. */
const fraction = (d: Date): string => {
  const ms = d.getUTCMilliseconds()
  return ms === 0 ? '' : `.${String(ms).padStart(3, '0').replace(/0+$/, '')}`
}

/** Go's `time.Time.String()` of a UTC time: "2024-01-02 03:04:05.5 +0000 UTC". */
const goTimeString = (d: Date): string =>
  `${d.toISOString().slice(0, 19).replace('T', ' ')}${fraction(d)} +0000 UTC`

/** Go's JSON form of a UTC time (RFC 3339 with trimmed fraction): "2024-01-02T03:04:05.5Z". */
const goTimeJSON = (d: Date): string => `${d.toISOString().slice(0, 19)}${fraction(d)}Z`

/** ozzo-validation's Min/Max threshold errors, as PocketBase returns them for date limits. */
function thresholdError(kind: 'min' | 'max', limit: Date): FieldError {
  const at = goTimeString(limit)
  const params = { threshold: goTimeJSON(limit) }
  return kind === 'min'
    ? fieldError('validation_min_greater_equal_than_required', `Must be no less than ${at}.`, params)
    : fieldError('validation_max_less_equal_than_required', `Must be no greater than ${at}.`, params)
}

export const dateField: FieldType = {
  type: 'date',
  options: {
    min: { kind: 'string', default: '', max: 100 },
    max: { kind: 'string', default: '', max: 100 },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'text',
  validateOptions(f, _ctx, report) {
    const min = f.min ? parseDateTime(f.min) : undefined
    const max = f.max ? parseDateTime(f.max) : undefined
    if (f.min && !min) report('min', fieldError('validation_date_invalid', 'Must be a valid date.'))
    if (f.max && !max) report('max', fieldError('validation_date_invalid', 'Must be a valid date.'))
    // Stored canonical, as PocketBase's DateTime options serialize: "2024-01-01" -> "2024-01-01 00:00:00.000Z".
    if (min) f.min = formatDateTime(min)
    if (max) f.max = formatDateTime(max)
    if (min && max && min > max)
      report('max', fieldError('validation_min_greater_equal_than_required', 'Must be no earlier than min.'))
  },
  zeroValue: () => '',
  prepareValue: (_f, raw) => toDateValue(raw),
  validateValue(f, value) {
    if (typeof value !== 'string') return unsupportedValueType()
    const d = value === '' ? undefined : parseDateTime(value)
    if (!d) return f.required ? requiredError() : undefined
    const min = f.min ? parseDateTime(f.min) : undefined
    if (min && d.getTime() < min.getTime()) return thresholdError('min', min)
    const max = f.max ? parseDateTime(f.max) : undefined
    if (max && d.getTime() > max.getTime()) return thresholdError('max', max)
    return undefined
  },
}
