import { describe, expect, it } from 'vitest'
import { GoRegexp } from './go-regexp.js'

describe('GoRegexp', () => {
  const cases: [string, string, boolean][] = [
    ['^abc$', 'abc', true],
    ['^abc$', 'abcd', false],
    ['b', 'abc', true], // unanchored, as Go MatchString
    ['^a|b$', 'xb', true],
    ['^(?:ab|cd)+$', 'abcdab', true],
    ['^(?:ab|cd)+$', 'abc', false],
    ['^a{2,3}$', 'a', false],
    ['^a{2,3}$', 'aa', true],
    ['^a{2,3}$', 'aaa', true],
    ['^a{2,3}$', 'aaaa', false],
    ['^a{2,}$', 'aaaaa', true],
    ['^a{2}$', 'aa', true],
    ['^x{$', 'x{', true], // '{' without a repeat is a literal
    ['^a??b*?$', 'bbb', true], // lazy quantifiers match the same strings
    ['^[a-c]+$', 'abcabc', true],
    ['^[a-c]+$', 'abd', false],
    ['^[^a-c]+$', 'xyz', true],
    ['^[^a-c]+$', 'xaz', false],
    ['^[]a]+$', ']a]', true],
    ['^[a-]+$', 'a-a', true],
    [String.raw`^[\d.]+$`, '1.2.3', true],
    [String.raw`^\d+$`, '123', true],
    [String.raw`^\D+$`, 'abc', true],
    [String.raw`^\s+$`, ' \t\n\r\f', true],
    [String.raw`^\s$`, '\v', false], // RE2's \s has no \v
    [String.raw`^\S+$`, 'a\u00a0b', true],
    [String.raw`^\w+$`, 'a_Z9', true],
    [String.raw`^\W$`, '-', true],
    [String.raw`^\x41\x{1F600}$`, 'A😀', true],
    [String.raw`^[\x{a1}-\x{ffff}]$`, 'ż', true],
    [String.raw`^[\x{a1}-\x{ffff}]$`, '😀', false], // one code point outside the BMP
    [String.raw`^\.\(\)\[\]$`, '.()[]', true],
    ['^.$', '\n', false],
    ['^.$', 'é', true],
    ['^$', '', true],
    ['^(a|)$', '', true],
    ['^(a*)*$', 'aaaa', true],
  ]
  it.each(cases)('%s on %j -> %s', (pattern, input, want) =>
    expect(new GoRegexp(pattern).test(input)).toBe(want),
  )

  it('stays linear where backtracking explodes', () => {
    const re = new GoRegexp('^(a+)+$')
    const start = performance.now()
    expect(re.test(`${'a'.repeat(5000)}!`)).toBe(false)
    expect(performance.now() - start).toBeLessThan(1000)
  })

  const invalid = ['(a', 'a)', '[a', '*a', 'a{3,2}', String.raw`\p{L}`, '(?i)a', String.raw`\xZZ`, 'a\\']
  it.each(invalid)('refuses %j', (pattern) => expect(() => new GoRegexp(pattern)).toThrow(/go-regexp/))
})
