import { describe, expect, it } from 'vitest'
import { field, NEW, REQUIRED, typeOf, UNSUPPORTED } from './fields.test-helper.js'

const bool = typeOf('bool')

describe('bool prepareValue', () => {
  const f = field('bool')
  const cases: [unknown, boolean][] = [
    [true, true],
    [false, false],
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['t', true],
    ['1', true],
    ['0', false],
    ['false', false],
    ['yes', false],
    ['on', false],
    ['', false],
    [1, true],
    [2.5, true],
    [0, false],
    [null, false],
    [undefined, false],
    [[true], false],
    [{}, false],
  ]
  it.each(cases)('%j -> %s', (raw, want) => expect(bool.prepareValue(f, raw)).toBe(want))
  it('zero value', () => expect(bool.zeroValue(f)).toBe(false))
})

describe('bool validateValue', () => {
  it('required means true', () => {
    const f = field('bool', { required: true })
    expect(bool.validateValue(f, true, NEW)).toBeUndefined()
    expect(bool.validateValue(f, false, NEW)).toStrictEqual(REQUIRED)
  })
  it('not required accepts both', () => {
    expect(bool.validateValue(field('bool'), false, NEW)).toBeUndefined()
    expect(bool.validateValue(field('bool'), true, NEW)).toBeUndefined()
  })
  it('non-booleans are refused', () => {
    for (const v of ['true', 1, null])
      expect(bool.validateValue(field('bool'), v, NEW)).toStrictEqual(UNSUPPORTED)
  })
  it('has no modifiers', () => expect(bool.applyModifier).toBeUndefined())
})
