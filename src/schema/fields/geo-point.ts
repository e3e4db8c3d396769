import type { FieldType } from '../field-type.js'

export const geoPointField: FieldType = {
  type: 'geoPoint',
  options: { required: { kind: 'bool', default: false } },
  hasHelp: true,
  column: () => 'geoPoint',
}
