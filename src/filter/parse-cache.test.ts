import { describe, expect, it } from 'vitest'
import { FilterSyntaxError } from './errors.js'
import { PARSE_CACHE_SIZE, parseFilter } from './parse.js'

describe('parseFilter cache', () => {
  it('returns the same frozen AST for the same text, and a fresh one for other text', () => {
    const a = parseFilter('views > 5 && title ~ "x"')
    expect(parseFilter('views > 5 && title ~ "x"')).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    expect(parseFilter('views > 6 && title ~ "x"')).not.toBe(a)
  })

  it('binds placeholders on a copy: the cached AST keeps its placeholder', () => {
    const bound = parseFilter('title = {:t}', { t: 'a' })
    const unbound = parseFilter('title = {:t}')
    expect(bound).not.toBe(unbound)
    expect(JSON.stringify(unbound)).toContain('Placeholder')
    expect(JSON.stringify(parseFilter('title = {:t}', { t: 'b' }))).toContain('"b"')
  })

  it('never caches a failure: a bad filter throws every time', () => {
    expect(() => parseFilter('views >')).toThrow(FilterSyntaxError)
    expect(() => parseFilter('views >')).toThrow(FilterSyntaxError)
  })

  it('is bounded: after PARSE_CACHE_SIZE other filters the first one is parsed anew', () => {
    const first = parseFilter('id = "cache-bound-0"')
    for (let i = 1; i <= PARSE_CACHE_SIZE; i++) parseFilter(`id = "cache-bound-${i}"`)
    const again = parseFilter('id = "cache-bound-0"')
    expect(again).not.toBe(first)
    expect(again).toEqual(first)
  })
})
