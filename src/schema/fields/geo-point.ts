import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { isPlainObject } from './cast.js'
import { requiredError, unsupportedValueType } from './values.js'

export interface GeoPoint {
  lon: number
  lat: number
}

/**
 * PocketBase's GeoPoint scan: an object (or a JSON string of one) with numeric `lon`/`lat`, keys
 * matched case-insensitively with the later one winning; values of another type are skipped, and
 * anything that is not an object gives the zero point.
 */
export function toGeoPoint(raw: unknown): GeoPoint {
  const point: GeoPoint = { lon: 0, lat: 0 }
  let obj = raw
  if (typeof raw === 'string') {
    try {
      obj = JSON.parse(raw) as unknown
    } catch {
      return point
    }
  }
  if (!isPlainObject(obj)) return point
  for (const [key, v] of Object.entries(obj)) {
    const k = key.toLowerCase()
    if ((k === 'lon' || k === 'lat') && typeof v === 'number' && Number.isFinite(v)) point[k] = v
  }
  return point
}

export const geoPointField: FieldType = {
  type: 'geoPoint',
  options: { required: { kind: 'bool', default: false } },
  hasHelp: true,
  column: () => 'geoPoint',
  zeroValue: () => ({ lon: 0, lat: 0 }),
  prepareValue: (_f, raw) => toGeoPoint(raw),
  validateValue(f, value) {
    if (!isPlainObject(value) || typeof value.lon !== 'number' || typeof value.lat !== 'number')
      return unsupportedValueType()
    const { lon, lat } = value
    // {0,0} ("Null Island") is the unset point.
    if (lon === 0 && lat === 0) return f.required ? requiredError() : undefined
    if (!(lat >= -90 && lat <= 90))
      return fieldError('validation_invalid_latitude', 'Latitude must be between -90 and 90 degrees.')
    if (!(lon >= -180 && lon <= 180))
      return fieldError('validation_invalid_longitude', 'Longitude must be between -180 and 180 degrees.')
    return undefined
  },
}
