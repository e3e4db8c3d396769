import { parse, type DefaultTreeAdapterTypes as T } from 'parse5'

/** Elements whose content never reaches an excerpt (PocketBase `excludeTags`). */
const EXCLUDED: ReadonlySet<string> = new Set([
  'head',
  'style',
  'script',
  'iframe',
  'embed',
  'applet',
  'object',
  'svg',
  'img',
  'picture',
  'dialog',
  'template',
  'button',
  'form',
  'textarea',
  'input',
  'select',
  'option',
])

/** Elements that do not separate words; every other element is a block and becomes a space. */
const INLINE: ReadonlySet<string> = new Set([
  'a',
  'abbr',
  'acronym',
  'b',
  'bdo',
  'big',
  'br',
  'button',
  'cite',
  'code',
  'em',
  'i',
  'label',
  'q',
  'small',
  'span',
  'strong',
  'strike',
  'sub',
  'sup',
  'time',
])

/** Go's RE2 `\s`: ASCII whitespace only (a non-breaking space is kept). */
const SPACES = /[\t\n\f\r ]+/g
/** Go's `unicode.IsSpace`, which `strings.TrimSpace` trims (JS `trim()` differs: U+0085, U+FEFF). */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]'
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g')

const goTrimSpace = (s: string) => s.replace(GO_TRIM, '')

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff

/** Code points of a string (Go counts runes). */
function runeCount(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) if (!isHighSurrogate(s.charCodeAt(i))) n++
  return n
}

/** The first `max` code points of `s`. */
function firstRunes(s: string, max: number): string {
  let i = 0
  for (let n = 0; n < max && i < s.length; n++) i += isHighSurrogate(s.charCodeAt(i)) ? 2 : 1
  return s.slice(0, i)
}

/**
 * The `:excerpt(max, withEllipsis)` value of a `fields` pick (§5.3, PocketBase
 * `tools/picker/excerpt_modifier.go`): the text of an HTML string, parsed as a browser would; block
 * elements separate words, `script`/`style`/`img`/`svg`/form controls… are skipped, ASCII whitespace
 * collapses to one space; then the first `max` code points, trimmed, and `...` when it was cut and
 * `withEllipsis`. Reading stops once enough text is collected.
 *
 * @example
 * excerpt('<p>Hello <b>big</b></p><p>world</p>', 9, true) // 'Hello big...'
 */
export function excerpt(html: string, max: number, withEllipsis: boolean): string {
  const parts: string[] = []
  let runes = 0
  let prevSpace = false
  const write = (text: string) => {
    parts.push(text)
    runes += runeCount(text)
  }
  const walk = (n: T.Node) => {
    if (n.nodeName === '#text') {
      let text = (n as T.TextNode).value.replace(SPACES, ' ')
      if (prevSpace) text = text.replace(/^ +/, '')
      if (text !== '') {
        prevSpace = text.endsWith(' ')
        write(text)
      }
    }
    // +2: a space before and after may be trimmed away
    if (runes > max + 2 || !('childNodes' in n)) return
    for (const c of n.childNodes) {
      const element = 'tagName' in c
      if (element && EXCLUDED.has(c.tagName)) continue
      const block = element && !INLINE.has(c.tagName)
      if (block && !prevSpace) {
        write(' ')
        prevSpace = true
      }
      walk(c)
      if (block && !prevSpace) {
        write(' ')
        prevSpace = true
      }
    }
  }
  walk(parse(html))
  const text = goTrimSpace(parts.join(''))
  if (runeCount(text) <= max) return text
  const cut = goTrimSpace(firstRunes(text, max))
  return withEllipsis ? `${cut}...` : cut
}
