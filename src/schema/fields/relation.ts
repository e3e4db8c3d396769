import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'

export const relationField: FieldType = {
  type: 'relation',
  options: {
    collectionId: { kind: 'string', default: '', max: 100 },
    cascadeDelete: { kind: 'bool', default: false },
    minSelect: { kind: 'int', default: 0 },
    maxSelect: { kind: 'int', default: 0 },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: (f) => ((f.maxSelect as number) > 1 ? 'jsonArray' : 'text'),
  multiple: (f) => (f.maxSelect as number) > 1,
  validateOptions(f, ctx, report) {
    const targetId = f.collectionId as string
    if (ctx.old && ctx.old.collectionId !== targetId) {
      report(
        'collectionId',
        fieldError('validation_field_relation_change', 'The relation collection cannot be changed.'),
      )
      return
    }
    // A collection may relate to itself.
    const target = targetId === ctx.collection.id ? ctx.collection : ctx.findCollection(targetId)
    if (!target || target.id !== targetId) {
      report(
        'collectionId',
        fieldError('validation_field_relation_missing_collection', "The relation collection doesn't exist."),
      )
      return
    }
    if (target.type === 'view' && ctx.collection.type !== 'view')
      report(
        'collectionId',
        fieldError(
          'validation_relation_field_non_view_base_collection',
          'Non-view collections are not allowed to have a view relation.',
        ),
      )
    const min = f.minSelect as number
    const max = f.maxSelect as number
    if (max > 0 && min > max)
      report(
        'maxSelect',
        fieldError('validation_min_greater_equal_than_required', `Must be no less than ${min}.`),
      )
  },
}
