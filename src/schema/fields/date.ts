import { fieldError, formatDateTime, parseDateTime } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'

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
}
