import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'

export const autodateField: FieldType = {
  type: 'autodate',
  options: {
    onCreate: { kind: 'bool', default: true },
    onUpdate: { kind: 'bool', default: false },
  },
  hasHelp: false,
  column: () => 'text',
  validateOptions(f, _ctx, report) {
    if (!f.onCreate && !f.onUpdate)
      report('onUpdate', fieldError('validation_required', 'Either onCreate or onUpdate must be enabled.'))
  },
  zeroValue: () => '',
  // Clients cannot set autodates: the server stamps them on create/update (records).
  prepareValue: () => '',
  validateValue: () => undefined,
}
