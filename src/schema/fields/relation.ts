import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { toUniqueStrings } from './cast.js'
import { applyListModifier, isMultiple, requiredError, toFieldForm } from './values.js'

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
  multiple: isMultiple,
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
  zeroValue: (f) => (isMultiple(f) ? [] : ''),
  prepareValue: (f, raw) => toFieldForm(f, toUniqueStrings(raw)),
  /** Counts only: whether the ids exist in the target collection is for records to check. */
  validateValue(f, value) {
    const ids = toUniqueStrings(value)
    if (ids.length === 0) return f.required ? requiredError() : undefined
    const minSelect = f.minSelect as number
    if (minSelect > 0 && ids.length < minSelect)
      return fieldError('validation_not_enough_values', `Select at least ${minSelect}.`, { minSelect })
    const maxSelect = Math.max(f.maxSelect as number, 1)
    if (ids.length > maxSelect)
      return fieldError('validation_too_many_values', `Select no more than ${maxSelect}.`, { maxSelect })
    return undefined
  },
  applyModifier: (f, current, op, arg) => applyListModifier(f, current, op, arg),
}
