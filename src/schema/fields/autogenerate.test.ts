import { describe, expect, it } from 'vitest'
import { autogenerateValue, generateFromPattern } from './autogenerate.js'

const SAMPLES = 1000

function samples(pattern: string): string[] {
  return Array.from({ length: SAMPLES }, () => generateFromPattern(pattern)!)
}

describe('generateFromPattern', () => {
  const exact: [string, RegExp, number][] = [
    ['[a-z0-9]{15}', /^[a-z0-9]{15}$/, 15],
    ['[a-zA-Z0-9]{50}', /^[a-zA-Z0-9]{50}$/, 50],
    ['post_[a-z]{8}', /^post_[a-z]{8}$/, 13],
    ['[0-9]{4}-[A-F0-9]{4}x', /^[0-9]{4}-[A-F0-9]{4}x$/, 10],
    [String.raw`\d{6}`, /^\d{6}$/, 6],
    [String.raw`[\w]{20}`, /^\w{20}$/, 20],
    [String.raw`id\.[a-z\-]{10}`, /^id\.[a-z-]{10}$/, 13],
    ['.{12}', /^[A-Za-z0-9]{12}$/, 12],
    ['(?:ab){3}', /^(?:ab){3}$/, 6],
  ]
  it.each(exact)('%s: matches, has the length, and 1000 samples are unique', (pattern, re, length) => {
    const out = samples(pattern)
    for (const s of out) {
      expect(s).toMatch(re)
      expect(s).toHaveLength(length)
    }
    if (length >= 13) expect(new Set(out).size).toBe(SAMPLES) // spaces of 26^8 and more
  })

  it('uses every character of the class (uniform enough)', () => {
    const seen = new Set(samples('[a-z0-9]{15}').join(''))
    expect(seen.size).toBe(36)
  })

  it('overlapping ranges are not weighted twice', () => {
    const counts = new Map<string, number>()
    for (const ch of samples('[a-ca-b]{20}').join('')) counts.set(ch, (counts.get(ch) ?? 0) + 1)
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c'])
    for (const n of counts.values()) expect(n).toBeGreaterThan(20_000 / 3 - 800)
  })

  const ranged: [string, RegExp, number, number][] = [
    ['[a-z]{2,5}', /^[a-z]{2,5}$/, 2, 4], // PocketBase never reaches the max
    ['x[0-9]?', /^x[0-9]?$/, 1, 1],
    ['[a-z]+', /^[a-z]+$/, 1, 5], // open max: 6
    ['[a-z]*', /^[a-z]*$/, 0, 5],
    ['[a-z]{3,}', /^[a-z]{3,}$/, 3, 5],
    ['(cat|dog)-[0-9]{3}', /^(cat|dog)-[0-9]{3}$/, 7, 7],
  ]
  it.each(ranged)('%s: lengths %s..%s', (pattern, re, min, max) => {
    const lengths = new Set<number>()
    for (const s of samples(pattern)) {
      expect(s).toMatch(re)
      lengths.add(s.length)
    }
    expect(Math.min(...lengths)).toBe(min)
    expect(Math.max(...lengths)).toBe(max)
  })

  it('alternatives are all chosen', () => {
    expect(new Set(samples('a|b|c'))).toEqual(new Set(['a', 'b', 'c']))
  })

  const unsupported = [
    '^[a-z]{5}$',
    '[^a-z]{5}',
    String.raw`\s{3}`,
    '(?i)abc',
    '[a-z',
    '(ab',
    String.raw`\1`,
    '',
  ]
  it.each(unsupported)('unsupported %j -> undefined', (pattern) => {
    if (pattern === '') expect(generateFromPattern(pattern)).toBe('')
    else expect(generateFromPattern(pattern)).toBeUndefined()
  })
})

describe('autogenerateValue', () => {
  it('no pattern -> empty', () => expect(autogenerateValue('')).toBe(''))
  it('a supported pattern is used', () => expect(autogenerateValue('abc')).toBe('abc'))
  it('an unsupported pattern falls back to 15 chars of [a-z0-9]', () => {
    const out = Array.from({ length: SAMPLES }, () => autogenerateValue('^[a-z]{5}$'))
    for (const s of out) expect(s).toMatch(/^[a-z0-9]{15}$/)
    expect(new Set(out).size).toBe(SAMPLES)
  })
})
