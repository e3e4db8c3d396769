import { describe, expect, test } from 'vitest'
import { MACROS, type MacroName } from './ast.js'
import { macroValue } from './macros.js'

describe('macroValue', () => {
  // a leap day, at the last millisecond, on a Thursday
  const now = new Date('2024-02-29T23:59:59.999Z')
  test.each<[MacroName, string | number]>([
    ['@now', '2024-02-29 23:59:59.999Z'],
    ['@yesterday', '2024-02-28 23:59:59.999Z'],
    ['@tomorrow', '2024-03-01 23:59:59.999Z'],
    ['@todayStart', '2024-02-29 00:00:00.000Z'],
    ['@todayEnd', '2024-02-29 23:59:59.999Z'],
    ['@monthStart', '2024-02-01 00:00:00.000Z'],
    ['@monthEnd', '2024-02-29 23:59:59.999Z'],
    ['@yearStart', '2024-01-01 00:00:00.000Z'],
    ['@yearEnd', '2024-12-31 23:59:59.999Z'],
    ['@second', 59],
    ['@minute', 59],
    ['@hour', 23],
    ['@weekday', 4],
    ['@day', 29],
    ['@month', 2],
    ['@year', 2024],
  ])('%s', (name, expected) => {
    expect(macroValue(name, now)).toBe(expected)
  })

  test('every macro has a value', () => {
    for (const name of MACROS) expect(macroValue(name, now)).toBeDefined()
  })

  test('@monthEnd of December', () => {
    expect(macroValue('@monthEnd', new Date('2023-12-05T10:00:00Z'))).toBe('2023-12-31 23:59:59.999Z')
  })
})
