import { describe, expect, it } from 'vitest'
import type { ModifierOp } from '../field-type.js'
import { err, field, NEW, REQUIRED, typeOf } from './fields.test-helper.js'

const file = typeOf('file')
const single = field('file', { maxSelect: 1 })
const multi = field('file', { maxSelect: 2 })
const tooMany = (maxSelect: number) =>
  err('validation_too_many_files', `The maximum allowed files is ${maxSelect}.`, { maxSelect })

describe('file prepareValue (names)', () => {
  const singleCases: [unknown, string][] = [
    ['a.png', 'a.png'],
    ['', ''],
    [['a.png', 'b.png'], 'b.png'],
    ['["a.png","b.png"]', 'b.png'],
    [null, ''],
    [undefined, ''],
    [3, '3'],
    [{ name: 'a.png' }, ''],
  ]
  it.each(singleCases)('single: %j -> %j', (raw, want) =>
    expect(file.prepareValue(single, raw)).toStrictEqual(want),
  )

  const multiCases: [unknown, string[]][] = [
    ['a.png', ['a.png']],
    [
      ['a.png', 'a.png', 'b.png'],
      ['a.png', 'b.png'],
    ],
    ['["a.png","b.png"]', ['a.png', 'b.png']],
    [
      ['a.png', '["b.png"]'],
      ['a.png', 'b.png'],
    ], // an item holding one name
    [['a.png', '["b.png","c.png"]'], ['a.png']], // an item holding two is dropped
    [
      ['a.png', '', null, 5],
      ['a.png', '5'],
    ],
    [[], []],
    [null, []],
    [{ name: 'a.png' }, []],
  ]
  it.each(multiCases)('multiple: %j -> %j', (raw, want) =>
    expect(file.prepareValue(multi, raw)).toStrictEqual(want),
  )

  it('zero values', () => {
    expect(file.zeroValue(single)).toBe('')
    expect(file.zeroValue(multi)).toStrictEqual([])
  })
})

describe('file validateValue', () => {
  it('maxSelect, at the limit and one past it', () => {
    expect(file.validateValue(multi, ['a.png', 'b.png'], NEW)).toBeUndefined()
    expect(file.validateValue(multi, ['a.png', 'b.png', 'c.png'], NEW)).toStrictEqual(tooMany(2))
    expect(file.validateValue(single, 'a.png', NEW)).toBeUndefined()
    expect(file.validateValue(single, ['a.png', 'b.png'], NEW)).toStrictEqual(tooMany(1))
  })
  it('required', () => {
    expect(file.validateValue(multi, [], NEW)).toBeUndefined()
    expect(file.validateValue({ ...multi, required: true }, [], NEW)).toStrictEqual(REQUIRED)
    expect(file.validateValue({ ...single, required: true }, '', NEW)).toStrictEqual(REQUIRED)
  })
})

describe('file modifiers (names)', () => {
  const cases: [unknown, ModifierOp, unknown, unknown][] = [
    [['a.png'], '+', 'b.png', ['a.png', 'b.png']],
    [['a.png'], '^', ['b.png'], ['b.png', 'a.png']],
    [['a.png', 'b.png'], '+', 'a.png', ['a.png', 'b.png']],
    [['a.png', 'b.png'], '-', 'a.png', ['b.png']],
    [['a.png', 'b.png'], '-', '["a.png","b.png"]', []],
    [['a.png'], '-', 'zzz.png', ['a.png']],
  ]
  it.each(cases)('multiple %j %s %j -> %j', (current, op, arg, want) =>
    expect(file.applyModifier!(multi, current, op, arg)).toStrictEqual(want),
  )
  it('single', () => {
    expect(file.applyModifier!(single, 'a.png', '+', 'b.png')).toBe('b.png')
    expect(file.applyModifier!(single, 'a.png', '^', 'b.png')).toBe('a.png')
    expect(file.applyModifier!(single, 'a.png', '-', 'a.png')).toBe('')
  })
})
