import type { FieldType } from '../field-type.js'
import { domainOptions, validateDomains } from './domains.js'

export const urlField: FieldType = {
  type: 'url',
  options: domainOptions,
  hasHelp: true,
  column: () => 'text',
  validateOptions: (f, _ctx, report) => validateDomains(f, report),
}
