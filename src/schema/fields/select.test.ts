import { describe, expect, it } from 'vitest'
import type { ModifierOp } from '../field-type.js'
import { err, field, NEW, REQUIRED, typeOf } from './fields.test-helper.js'

const select = typeOf('select')
const single = field('select', { values: ['a', 'b', 'c'], maxSelect: 1 })
const multi = field('select', { values: ['a', 'b', 'c'], maxSelect: 2 })
const tooMany = (maxSelect: number) =>
  err('validation_too_many_values', `Select no more than ${maxSelect}.`, { maxSelect })
const invalid = (value: string) => err('validation_invalid_value', `Invalid value ${value}.`, { value })

describe('select prepareValue', () => {
  const singleCases: [unknown, string][] = [
    ['a', 'a'],
    ['', ''],
    [['a', 'b'], 'b'],
    ['["a","b"]', 'b'],
    ['["a", "b"', '["a", "b"'],
    [['b', '', ''], 'b'],
    [['a', 'a'], 'a'],
    [5, '5'],
    [true, 'true'],
    [null, ''],
    [undefined, ''],
    [[], ''],
    [{ v: 'a' }, ''],
  ]
  it.each(singleCases)('single: %j -> %j', (raw, want) =>
    expect(select.prepareValue(single, raw)).toStrictEqual(want),
  )

  const multiCases: [unknown, string[]][] = [
    ['a', ['a']],
    ['', []],
    [
      ['b', 'a', 'b'],
      ['b', 'a'],
    ],
    ['["a","b"]', ['a', 'b']],
    ['["a",1]', ['["a",1]']],
    [['a', '', null], ['a']],
    [
      [1, 2],
      ['1', '2'],
    ],
    [5, ['5']],
    [null, []],
    [undefined, []],
    [{ v: 'a' }, []],
  ]
  it.each(multiCases)('multiple: %j -> %j', (raw, want) =>
    expect(select.prepareValue(multi, raw)).toStrictEqual(want),
  )

  it('zero values', () => {
    expect(select.zeroValue(single)).toBe('')
    expect(select.zeroValue(field('select', { values: ['a'] }))).toBe('') // maxSelect 0 is single
    expect(select.zeroValue(multi)).toStrictEqual([])
  })
})

describe('select validateValue', () => {
  it('single', () => {
    expect(select.validateValue(single, 'a', NEW)).toBeUndefined()
    expect(select.validateValue(single, 'x', NEW)).toStrictEqual(invalid('x'))
    expect(select.validateValue(single, '', NEW)).toBeUndefined()
    expect(select.validateValue({ ...single, required: true }, '', NEW)).toStrictEqual(REQUIRED)
    expect(select.validateValue(single, ['a', 'b'], NEW)).toStrictEqual(tooMany(1))
  })
  it('multiple, at maxSelect and one past it', () => {
    expect(select.validateValue(multi, ['a', 'b'], NEW)).toBeUndefined()
    expect(select.validateValue(multi, ['a', 'b', 'c'], NEW)).toStrictEqual(tooMany(2))
    expect(select.validateValue(multi, ['a', 'x'], NEW)).toStrictEqual(invalid('x'))
    expect(select.validateValue(multi, [], NEW)).toBeUndefined()
    expect(select.validateValue({ ...multi, required: true }, [], NEW)).toStrictEqual(REQUIRED)
  })
  it('the count is checked before the values', () => {
    expect(select.validateValue(multi, ['x', 'y', 'z'], NEW)).toStrictEqual(tooMany(2))
  })
  it('the message is sentenized as PocketBase does', () => {
    expect(select.validateValue(single, 'x.', NEW)).toStrictEqual(
      err('validation_invalid_value', 'Invalid value x.', { value: 'x.' }),
    )
    expect(select.validateValue(single, 'why?', NEW)).toStrictEqual(
      err('validation_invalid_value', 'Invalid value why?', { value: 'why?' }),
    )
  })
  it('values are case-sensitive', () => {
    expect(select.validateValue(single, 'A', NEW)).toStrictEqual(invalid('A'))
  })
})

describe('select modifiers', () => {
  const multiCases: [string[], ModifierOp, unknown, string[]][] = [
    [['a'], '+', 'b', ['a', 'b']],
    [['a', 'b'], '+', ['a', 'c'], ['a', 'b', 'c']], // appending a present value keeps one
    [['a', 'b'], '^', ['c', 'a'], ['c', 'a', 'b']], // prepending a present value moves it first
    [['a'], '^', 'a', ['a']],
    [['a', 'b'], '-', 'a', ['b']],
    [['a', 'b'], '-', 'x', ['a', 'b']], // removing an absent value changes nothing
    [['a', 'b'], '-', ['a', 'b', 'c'], []],
    [['a', 'b'], '-', '["a"]', ['b']],
    [[], '+', 'x', ['x']], // not validated here
    [[], '-', 'a', []],
    [['a', 'b'], '+', '', ['a', 'b']],
    [['a', 'b'], '+', ['b', 'c', 'a'], ['a', 'b', 'c']], // may pass maxSelect: validation refuses it
  ]
  it.each(multiCases)('multiple %j %s %j -> %j', (current, op, arg, want) =>
    expect(select.applyModifier!(multi, current, op, arg)).toStrictEqual(want),
  )

  const singleCases: [string, ModifierOp, unknown, string][] = [
    ['a', '+', 'b', 'b'], // appended, then the last is kept: replaces
    ['a', '+', ['b', 'c'], 'c'],
    ['a', '^', 'b', 'a'], // prepended, the last is kept: no change
    ['', '^', 'b', 'b'],
    ['a', '-', 'a', ''],
    ['a', '-', 'b', 'a'],
    ['a', '+', 'a', 'a'],
    ['', '-', 'a', ''],
  ]
  it.each(singleCases)('single %j %s %j -> %j', (current, op, arg, want) =>
    expect(select.applyModifier!(single, current, op, arg)).toBe(want),
  )
})
