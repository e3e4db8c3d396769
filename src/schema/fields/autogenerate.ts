import { randomInt } from 'node:crypto'
import { ALPHANUMERIC_LOWER, randomString } from '../../lib/index.js'

/**
 * Random strings for a text field's `autogeneratePattern`, drawn with crypto randomness the way
 * PocketBase's `security.RandomStringByRegex` draws them:
 *
 * - literals and escaped punctuation are copied; `[...]` (ranges, `\d`, `\w` inside), `\d`, `\w`
 *   pick one character uniformly from the class; `.` picks from `[A-Za-z0-9]`;
 * - groups `(...)`/`(?:...)` and alternatives `a|b` (one chosen uniformly) are supported;
 * - `{n}` repeats n times; `{n,m}`, `?`, `*`, `+` and `{n,}` repeat a random count from min up to,
 *   but not including, max (PocketBase's own bound), where an open max is 6.
 *
 * Anything else (anchors, negated classes, `\s`, flags, backreferences...) is not a generator
 * PocketBase or Galley supports: `generateFromPattern` returns undefined, and
 * `autogenerateValue` then falls back to 15 characters of `[a-z0-9]`, a record id.
 */

type Gen = (out: string[]) => void

const MAX_OPEN_REPEAT = 6
const MAX_REPEAT = 1000

/** Inclusive code point ranges, merged so that every character is equally likely. */
type Ranges = [number, number][]

const DIGITS: Ranges = [[0x30, 0x39]]
const WORD: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]
const ANY: Ranges = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
]

class Unsupported extends Error {}

function merge(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const out: Ranges = []
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1]
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi)
    else out.push([lo, hi])
  }
  return out
}

function pick(ranges: Ranges): string {
  const total = ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0)
  let i = randomInt(total)
  for (const [lo, hi] of ranges) {
    const size = hi - lo + 1
    if (i < size) return String.fromCodePoint(lo + i)
    i -= size
  }
  throw new Error('unreachable')
}

class PatternParser {
  #pos = 0
  constructor(private readonly src: string) {}

  parse(): Gen {
    const gen = this.#alternation()
    if (this.#pos !== this.src.length) throw new Unsupported()
    return gen
  }

  #peek(): string | undefined {
    return this.src[this.#pos]
  }

  #alternation(): Gen {
    const options = [this.#sequence()]
    while (this.#peek() === '|') {
      this.#pos++
      options.push(this.#sequence())
    }
    if (options.length === 1) return options[0]!
    return (out) => options[randomInt(options.length)]!(out)
  }

  #sequence(): Gen {
    const parts: Gen[] = []
    for (let c = this.#peek(); c !== undefined && c !== '|' && c !== ')'; c = this.#peek()) {
      let gen = this.#atom()
      for (let q = this.#quantifier(); q; q = this.#quantifier()) gen = repeat(gen, q[0], q[1])
      parts.push(gen)
    }
    return (out) => {
      for (const part of parts) part(out)
    }
  }

  #quantifier(): [number, number] | undefined {
    const c = this.#peek()
    let q: [number, number]
    if (c === '*') q = [0, -1]
    else if (c === '+') q = [1, -1]
    else if (c === '?') q = [0, 1]
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.#pos))
      if (!m) return undefined // a literal '{'
      const min = Number(m[1])
      const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3])
      if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) throw new Unsupported()
      this.#pos += m[0].length - 1
      q = [min, max]
    } else return undefined
    this.#pos++
    if (this.#peek() === '?') this.#pos++ // lazy: same strings
    return q
  }

  #atom(): Gen {
    const c = this.#peek()!
    switch (c) {
      case '(': {
        this.#pos++
        if (this.src.startsWith('?:', this.#pos)) this.#pos += 2
        else if (this.#peek() === '?') throw new Unsupported()
        const inner = this.#alternation()
        if (this.#peek() !== ')') throw new Unsupported()
        this.#pos++
        return inner
      }
      case '[':
        return chars(this.#class())
      case '.':
        this.#pos++
        return chars(ANY)
      case '\\': {
        const e = this.#escape()
        return typeof e === 'string' ? literal(e) : chars(e)
      }
      case '^':
      case '$':
      case '*':
      case '+':
      case '?':
        throw new Unsupported()
      default: {
        const cp = this.src.codePointAt(this.#pos)!
        this.#pos += cp > 0xffff ? 2 : 1
        return literal(String.fromCodePoint(cp))
      }
    }
  }

  /** After a backslash: a class, or the literal character it escapes. */
  #escape(): string | Ranges {
    const c = this.src[this.#pos + 1]
    this.#pos += 2
    if (c === 'd') return DIGITS
    if (c === 'w') return WORD
    if (c === undefined || /[0-9A-Za-z]/.test(c)) throw new Unsupported()
    return c
  }

  #class(): Ranges {
    this.#pos++ // '['
    if (this.#peek() === '^') throw new Unsupported()
    const ranges: Ranges = []
    let first = true
    for (;;) {
      const c = this.#peek()
      if (c === undefined) throw new Unsupported()
      if (c === ']' && !first) break
      first = false
      const lo = this.#classChar()
      if (typeof lo !== 'number') {
        ranges.push(...lo)
        continue
      }
      if (this.#peek() === '-' && this.src[this.#pos + 1] !== undefined && this.src[this.#pos + 1] !== ']') {
        this.#pos++
        const hi = this.#classChar()
        if (typeof hi !== 'number' || hi < lo) throw new Unsupported()
        ranges.push([lo, hi])
      } else ranges.push([lo, lo])
    }
    this.#pos++ // ']'
    return merge(ranges)
  }

  #classChar(): number | Ranges {
    if (this.#peek() === '\\') {
      const e = this.#escape()
      return typeof e === 'string' ? e.codePointAt(0)! : e
    }
    const cp = this.src.codePointAt(this.#pos)!
    this.#pos += cp > 0xffff ? 2 : 1
    return cp
  }
}

const literal =
  (s: string): Gen =>
  (out) =>
    void out.push(s)

const chars =
  (ranges: Ranges): Gen =>
  (out) =>
    void out.push(pick(ranges))

function repeat(gen: Gen, min: number, max: number): Gen {
  let hi = max < 0 ? MAX_OPEN_REPEAT : max
  if (hi < min) hi = min
  return (out) => {
    const n = hi === min ? min : min + randomInt(hi - min)
    for (let i = 0; i < n; i++) gen(out)
  }
}

const cache = new Map<string, Gen | null>()

/** A random string for `pattern`, or undefined when the pattern uses syntax the generator lacks. */
export function generateFromPattern(pattern: string): string | undefined {
  let gen = cache.get(pattern)
  if (gen === undefined) {
    try {
      gen = new PatternParser(pattern).parse()
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err
      gen = null
    }
    if (cache.size >= 1000) cache.clear()
    cache.set(pattern, gen)
  }
  if (gen === null) return undefined
  const out: string[] = []
  gen(out)
  return out.join('')
}

/** The text field's generated value: from the pattern, else 15 chars of `[a-z0-9]`; '' without a pattern. */
export function autogenerateValue(pattern: string): string {
  if (pattern === '') return ''
  return generateFromPattern(pattern) ?? randomString(15, ALPHANUMERIC_LOWER)
}
