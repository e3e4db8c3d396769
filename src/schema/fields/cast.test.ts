import { describe, expect, it } from 'vitest'
import {
  castToBool,
  castToFloat,
  castToString,
  formatFloat,
  formatFloatFixed,
  parseGoFloat,
  runeCount,
  subtract,
  toUniqueStrings,
} from './cast.js'

describe('formatFloat (Go FormatFloat f -1)', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1.5, '-1.5'],
    [0.1, '0.1'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [1e-7, '0.0000001'],
    [-1.25e-8, '-0.0000000125'],
    [123456789012, '123456789012'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ]
  it.each(cases)('%s -> %s', (n, s) => expect(formatFloat(n)).toBe(s))
})

describe('formatFloatFixed (Go %f)', () => {
  const cases: [number, string][] = [
    [5, '5.000000'],
    [-2.5, '-2.500000'],
    [0, '0.000000'],
    [-0, '-0.000000'],
    [0.1234567, '0.123457'],
    [1e21, '1000000000000000000000.000000'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ]
  it.each(cases)('%s -> %s', (n, s) => expect(formatFloatFixed(n)).toBe(s))
})

describe('parseGoFloat (strconv.ParseFloat)', () => {
  const cases: [string, number | undefined][] = [
    ['1', 1],
    ['-1.5', -1.5],
    ['+2', 2],
    ['1.', 1],
    ['.5', 0.5],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['0012', 12],
    ['0x1p-2', 0.25],
    ['0X1.8P1', 3],
    ['-0x10p0', -16],
    ['inf', Infinity],
    ['+Inf', Infinity],
    ['-infinity', -Infinity],
    ['1e400', undefined],
    ['1e-400', 0],
    ['', undefined],
    [' 1', undefined],
    ['1 ', undefined],
    ['1_000', undefined],
    ['0x10', undefined],
    ['.', undefined],
    ['1e', undefined],
    ['abc', undefined],
    ['+nan', undefined],
    ['infin', undefined],
  ]
  it.each(cases)('%j -> %s', (s, n) => expect(parseGoFloat(s)).toBe(n))
  it('NaN in any case', () => {
    expect(parseGoFloat('NaN')).toBeNaN()
    expect(parseGoFloat('nan')).toBeNaN()
  })
})

describe('castToString', () => {
  const cases: [unknown, string][] = [
    ['x', 'x'],
    ['', ''],
    [12, '12'],
    [1.5, '1.5'],
    [1e21, '1000000000000000000000'],
    [true, 'true'],
    [false, 'false'],
    [null, ''],
    [undefined, ''],
    [['a'], ''],
    [{ a: 1 }, ''],
  ]
  it.each(cases)('%j -> %j', (raw, s) => expect(castToString(raw)).toBe(s))
})

describe('castToFloat', () => {
  const cases: [unknown, number][] = [
    [3, 3],
    [-2.5, -2.5],
    ['12', 12],
    ['-1.5e2', -150],
    ['12abc', 0],
    ['', 0],
    [true, 1],
    [false, 0],
    [null, 0],
    [undefined, 0],
    [[1], 0],
    [{ n: 1 }, 0],
    ['1e400', 0],
  ]
  it.each(cases)('%j -> %s', (raw, n) => expect(castToFloat(raw)).toBe(n))
})

describe('castToBool (strconv.ParseBool)', () => {
  const cases: [unknown, boolean][] = [
    [true, true],
    [false, false],
    ['1', true],
    ['t', true],
    ['T', true],
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['tRUE', false],
    ['yes', false],
    ['0', false],
    ['false', false],
    [' true', false],
    ['', false],
    [1, true],
    [0.5, true],
    [0, false],
    [-1, true],
    [null, false],
    [undefined, false],
    [[true], false],
    [{}, false],
  ]
  it.each(cases)('%j -> %s', (raw, b) => expect(castToBool(raw)).toBe(b))
})

describe('toUniqueStrings (list.ToUniqueStringSlice)', () => {
  const cases: [unknown, string[]][] = [
    [null, []],
    [undefined, []],
    ['', []],
    ['a', ['a']],
    ['a b', ['a b']],
    ['["a","b","a",""]', ['a', 'b']],
    ['["a", null]', ['a']],
    ['[1,2]', ['[1,2]']],
    ['[a', ['[a']],
    ['["a"] x', ['["a"] x']],
    ['{"a":1}', ['{"a":1}']],
    [
      ['b', 'a', 'b', '', 'c'],
      ['b', 'a', 'c'],
    ],
    [
      ['a', 1, true, null, ['x'], { y: 1 }],
      ['a', '1', 'true'],
    ],
    [['["a"]'], ['["a"]']],
    [5, ['5']],
    [false, ['false']],
    [{ a: 'b' }, []],
  ]
  it.each(cases)('%j -> %j', (raw, list) => expect(toUniqueStrings(raw)).toEqual(list))
})

describe('small helpers', () => {
  it('subtract keeps order and ignores absent values', () => {
    expect(subtract(['a', 'b', 'c'], ['c', 'x', 'a'])).toEqual(['b'])
    expect(subtract(['a'], [])).toEqual(['a'])
  })
  it('runeCount counts code points', () => {
    expect(runeCount('')).toBe(0)
    expect(runeCount('abc')).toBe(3)
    expect(runeCount('żółw')).toBe(4)
    expect(runeCount('😀a')).toBe(2)
  })
})
