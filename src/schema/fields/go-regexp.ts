/**
 * A small linear-time matcher for the RE2 (Go `regexp`) syntax that the email and URL validators of
 * PocketBase are written in (govalidator's patterns). Those patterns nest quantifiers in ways that make
 * a backtracking engine (JavaScript's RegExp) exponential on some inputs; simulating the automaton
 * (Thompson's construction) keeps every check O(input × pattern), and lets the patterns be copied
 * from Go unchanged.
 *
 * Supported: literals, `.`, classes `[...]`/`[^...]` with ranges, `\d \D \s \S \w \W`, `\xHH`,
 * `\x{H...}`, escaped punctuation, groups `(...)`/`(?:...)`, `|`, `* + ? {n} {n,} {n,m}` (a trailing `?`
 * is accepted and ignored: laziness does not change whether a string matches), `^` and `$` (text
 * boundaries, as without the `m` flag). Anything else throws when the pattern is compiled.
 */

type Test = (cp: number) => boolean

type Node =
  | { k: 'set'; test: Test }
  | { k: 'cat'; items: Node[] }
  | { k: 'alt'; items: Node[] }
  | { k: 'rep'; min: number; max: number; sub: Node }
  | { k: 'bol' }
  | { k: 'eol' }

type State =
  | { k: 'set'; test: Test; out: number }
  | { k: 'split'; out1: number; out2: number }
  | { k: 'bol'; out: number }
  | { k: 'eol'; out: number }
  | { k: 'match' }

const inRanges =
  (ranges: readonly (readonly [number, number])[]): Test =>
  (cp) =>
    ranges.some(([lo, hi]) => cp >= lo && cp <= hi)

const DIGIT = inRanges([[0x30, 0x39]])
const SPACE = inRanges([
  [0x09, 0x0a],
  [0x0c, 0x0d],
  [0x20, 0x20],
])
const WORD = inRanges([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
])
const not =
  (t: Test): Test =>
  (cp) =>
    !t(cp)
const ANY_BUT_NEWLINE: Test = (cp) => cp !== 0x0a

class Parser {
  #pos = 0
  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.#alt()
    if (this.#pos < this.src.length) throw this.#error('unexpected )')
    return node
  }

  #error(what: string): Error {
    return new Error(`go-regexp: ${what} at ${this.#pos} in ${this.src}`)
  }

  #peek(): string | undefined {
    return this.src[this.#pos]
  }

  #alt(): Node {
    const items = [this.#concat()]
    while (this.#peek() === '|') {
      this.#pos++
      items.push(this.#concat())
    }
    return items.length === 1 ? items[0]! : { k: 'alt', items }
  }

  #concat(): Node {
    const items: Node[] = []
    for (let c = this.#peek(); c !== undefined && c !== '|' && c !== ')'; c = this.#peek()) {
      let atom = this.#atom()
      for (let q = this.#quantifier(); q; q = this.#quantifier()) atom = { k: 'rep', ...q, sub: atom }
      items.push(atom)
    }
    return { k: 'cat', items }
  }

  #quantifier(): { min: number; max: number } | undefined {
    const c = this.#peek()
    let q: { min: number; max: number } | undefined
    if (c === '*') q = { min: 0, max: Infinity }
    else if (c === '+') q = { min: 1, max: Infinity }
    else if (c === '?') q = { min: 0, max: 1 }
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.#pos))
      if (!m) return undefined // a literal '{', as in Go
      const min = Number(m[1])
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])
      if (max < min || min > 1000 || (max !== Infinity && max > 1000)) throw this.#error('bad repeat')
      this.#pos += m[0].length - 1
      q = { min, max }
    } else return undefined
    this.#pos++
    if (this.#peek() === '?') this.#pos++
    return q
  }

  #atom(): Node {
    const c = this.#peek()!
    switch (c) {
      case '(': {
        this.#pos++
        if (this.src.startsWith('?:', this.#pos)) this.#pos += 2
        else if (this.#peek() === '?') throw this.#error('unsupported group flag')
        const inner = this.#alt()
        if (this.#peek() !== ')') throw this.#error('missing )')
        this.#pos++
        return inner
      }
      case '[':
        return { k: 'set', test: this.#class() }
      case '.':
        this.#pos++
        return { k: 'set', test: ANY_BUT_NEWLINE }
      case '^':
        this.#pos++
        return { k: 'bol' }
      case '$':
        this.#pos++
        return { k: 'eol' }
      case '*':
      case '+':
      case '?':
        throw this.#error('missing argument to repetition operator')
      case '\\':
        return { k: 'set', test: this.#escape() }
      default: {
        const cp = this.src.codePointAt(this.#pos)!
        this.#pos += cp > 0xffff ? 2 : 1
        return { k: 'set', test: (x) => x === cp }
      }
    }
  }

  /** After a backslash: a class escape, or the code point it stands for. */
  #escape(): Test {
    const cp = this.#escapedCodePoint()
    return typeof cp === 'number' ? (x) => x === cp : cp
  }

  #escapedCodePoint(): number | Test {
    this.#pos++ // the backslash
    const c = this.#peek()
    if (c === undefined) throw this.#error('trailing backslash')
    this.#pos++
    switch (c) {
      case 'd':
        return DIGIT
      case 'D':
        return not(DIGIT)
      case 's':
        return SPACE
      case 'S':
        return not(SPACE)
      case 'w':
        return WORD
      case 'W':
        return not(WORD)
      case 'n':
        return 0x0a
      case 't':
        return 0x09
      case 'r':
        return 0x0d
      case 'f':
        return 0x0c
      case 'v':
        return 0x0b
      case 'a':
        return 0x07
      case 'x': {
        const m = /^(?:\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{2}))/.exec(this.src.slice(this.#pos))
        if (!m) throw this.#error('bad \\x escape')
        this.#pos += m[0].length
        return Number.parseInt(m[1] ?? m[2]!, 16)
      }
      default:
        if (/[0-9A-Za-z]/.test(c)) throw this.#error(`unsupported escape \\${c}`)
        return c.codePointAt(0)!
    }
  }

  #class(): Test {
    this.#pos++ // '['
    let negated = false
    if (this.#peek() === '^') {
      negated = true
      this.#pos++
    }
    const tests: Test[] = []
    let first = true
    for (;;) {
      const c = this.#peek()
      if (c === undefined) throw this.#error('missing ]')
      if (c === ']' && !first) break
      first = false
      const lo = this.#classChar()
      if (typeof lo !== 'number') {
        tests.push(lo)
        continue
      }
      if (this.#peek() === '-' && this.src[this.#pos + 1] !== ']' && this.#pos + 1 < this.src.length) {
        this.#pos++
        const hi = this.#classChar()
        if (typeof hi !== 'number' || hi < lo) throw this.#error('bad class range')
        tests.push((x) => x >= lo && x <= hi)
      } else tests.push((x) => x === lo)
    }
    this.#pos++ // ']'
    const any: Test = (cp) => tests.some((t) => t(cp))
    return negated ? not(any) : any
  }

  #classChar(): number | Test {
    if (this.#peek() === '\\') return this.#escapedCodePoint()
    const cp = this.src.codePointAt(this.#pos)!
    this.#pos += cp > 0xffff ? 2 : 1
    return cp
  }
}

/** A compiled pattern; `test` has Go's `MatchString` meaning (a match anywhere unless anchored). */
export class GoRegexp {
  readonly #states: State[] = []
  readonly #start: number

  constructor(pattern: string) {
    const match = this.#add({ k: 'match' })
    this.#start = this.#compile(new Parser(pattern).parse(), match)
  }

  #add(s: State): number {
    this.#states.push(s)
    return this.#states.length - 1
  }

  /** Builds the states of `node` in front of `next` and returns the entry state. */
  #compile(node: Node, next: number): number {
    switch (node.k) {
      case 'set':
        return this.#add({ k: 'set', test: node.test, out: next })
      case 'bol':
      case 'eol':
        return this.#add({ k: node.k, out: next })
      case 'cat': {
        let s = next
        for (let i = node.items.length - 1; i >= 0; i--) s = this.#compile(node.items[i]!, s)
        return s
      }
      case 'alt': {
        let s = this.#compile(node.items[node.items.length - 1]!, next)
        for (let i = node.items.length - 2; i >= 0; i--)
          s = this.#add({ k: 'split', out1: this.#compile(node.items[i]!, next), out2: s })
        return s
      }
      case 'rep': {
        let s = next
        if (node.max === Infinity) {
          const loop = this.#add({ k: 'split', out1: -1, out2: next })
          const body = this.#compile(node.sub, loop)
          ;(this.#states[loop] as { out1: number }).out1 = body
          s = loop
        } else {
          for (let i = node.min; i < node.max; i++)
            s = this.#add({ k: 'split', out1: this.#compile(node.sub, s), out2: next })
        }
        for (let i = 0; i < node.min; i++) s = this.#compile(node.sub, s)
        return s
      }
    }
  }

  test(input: string): boolean {
    const cps = Array.from(input, (ch) => ch.codePointAt(0)!)
    const n = cps.length
    const states = this.#states
    const mark = new Int32Array(states.length).fill(-1)
    let current: number[] = []
    let next: number[] = []
    let found = false
    const add = (list: number[], s: number, pos: number): void => {
      const stack = [s]
      while (stack.length > 0) {
        const i = stack.pop()!
        if (mark[i] === pos) continue
        mark[i] = pos
        const st = states[i]!
        switch (st.k) {
          case 'split':
            stack.push(st.out2, st.out1)
            break
          case 'bol':
            if (pos === 0) stack.push(st.out)
            break
          case 'eol':
            if (pos === n) stack.push(st.out)
            break
          case 'match':
            found = true
            break
          case 'set':
            list.push(i)
        }
      }
    }
    for (let pos = 0; pos <= n; pos++) {
      add(current, this.#start, pos) // unanchored: a match may start anywhere
      if (found) return true
      if (pos === n) break
      const cp = cps[pos]!
      next = []
      for (const i of current) {
        const st = states[i] as { test: Test; out: number }
        if (st.test(cp)) add(next, st.out, pos + 1)
      }
      if (found) return true
      current = next
    }
    return found
  }
}
