import { describe, expect, it } from 'vitest'
import type { ModifierOp } from '../field-type.js'
import { err, field, NEW, REQUIRED, typeOf } from './fields.test-helper.js'

const relation = typeOf('relation')
const single = field('relation', { collectionId: 'pbc_1', maxSelect: 1 })
const multi = field('relation', { collectionId: 'pbc_1', minSelect: 2, maxSelect: 3 })
const tooMany = (maxSelect: number) =>
  err('validation_too_many_values', `Select no more than ${maxSelect}.`, { maxSelect })
const notEnough = (minSelect: number) =>
  err('validation_not_enough_values', `Select at least ${minSelect}.`, { minSelect })

describe('relation prepareValue', () => {
  const singleCases: [unknown, string][] = [
    ['r1', 'r1'],
    ['', ''],
    [['r1', 'r2'], 'r2'],
    ['["r1","r2"]', 'r2'],
    [['r1', '', 'r1'], 'r1'],
    [7, '7'],
    [null, ''],
    [undefined, ''],
    [{ id: 'r1' }, ''],
  ]
  it.each(singleCases)('single: %j -> %j', (raw, want) =>
    expect(relation.prepareValue(single, raw)).toStrictEqual(want),
  )

  const multiCases: [unknown, string[]][] = [
    ['r1', ['r1']],
    [
      ['r2', 'r1', 'r2', ''],
      ['r2', 'r1'],
    ],
    ['["r1","r2"]', ['r1', 'r2']],
    ['', []],
    [null, []],
    [
      [true, 3],
      ['true', '3'],
    ],
    [[{ id: 'r1' }], []],
    ['not [json', ['not [json']],
  ]
  it.each(multiCases)('multiple: %j -> %j', (raw, want) =>
    expect(relation.prepareValue(multi, raw)).toStrictEqual(want),
  )

  it('zero values', () => {
    expect(relation.zeroValue(single)).toBe('')
    expect(relation.zeroValue(multi)).toStrictEqual([])
  })
})

describe('relation validateValue', () => {
  it('minSelect and maxSelect, at each limit and past it', () => {
    expect(relation.validateValue(multi, ['r1'], NEW)).toStrictEqual(notEnough(2))
    expect(relation.validateValue(multi, ['r1', 'r2'], NEW)).toBeUndefined()
    expect(relation.validateValue(multi, ['r1', 'r2', 'r3'], NEW)).toBeUndefined()
    expect(relation.validateValue(multi, ['r1', 'r2', 'r3', 'r4'], NEW)).toStrictEqual(tooMany(3))
  })
  it('an empty value skips minSelect unless required', () => {
    expect(relation.validateValue(multi, [], NEW)).toBeUndefined()
    expect(relation.validateValue({ ...multi, required: true }, [], NEW)).toStrictEqual(REQUIRED)
  })
  it('single', () => {
    expect(relation.validateValue(single, 'r1', NEW)).toBeUndefined()
    expect(relation.validateValue(single, '', NEW)).toBeUndefined()
    expect(relation.validateValue({ ...single, required: true }, '', NEW)).toStrictEqual(REQUIRED)
    expect(relation.validateValue(single, ['r1', 'r2'], NEW)).toStrictEqual(tooMany(1))
    expect(relation.validateValue(field('relation', { maxSelect: 0 }), ['r1', 'r2'], NEW)).toStrictEqual(
      tooMany(1),
    )
  })
})

describe('relation modifiers', () => {
  const cases: [unknown, ModifierOp, unknown, unknown][] = [
    [['r1'], '+', 'r2', ['r1', 'r2']],
    [['r1'], '+', ['r2', 'r1'], ['r1', 'r2']],
    [['r1', 'r2'], '^', 'r3', ['r3', 'r1', 'r2']],
    [['r1', 'r2'], '^', ['r2'], ['r2', 'r1']],
    [['r1', 'r2'], '-', 'r1', ['r2']],
    [['r1', 'r2'], '-', ['r9'], ['r1', 'r2']],
    [[], '-', 'r1', []],
    ['r1', '+', 'r2', ['r1', 'r2']], // a stored single value read as a list
  ]
  it.each(cases)('multiple %j %s %j -> %j', (current, op, arg, want) =>
    expect(relation.applyModifier!(multi, current, op, arg)).toStrictEqual(want),
  )
  it('single: + replaces, ^ keeps, - clears on a match', () => {
    expect(relation.applyModifier!(single, 'r1', '+', 'r2')).toBe('r2')
    expect(relation.applyModifier!(single, 'r1', '^', 'r2')).toBe('r1')
    expect(relation.applyModifier!(single, '', '^', 'r2')).toBe('r2')
    expect(relation.applyModifier!(single, 'r1', '-', 'r1')).toBe('')
    expect(relation.applyModifier!(single, 'r1', '-', 'r2')).toBe('r1')
  })
})
