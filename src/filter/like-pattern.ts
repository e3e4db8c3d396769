const SPECIAL = new Set(['\\', '%', '_'])

/**
 * The LIKE pattern of `a ~ "value"` (PocketBase `wrapLikeParams`): a value without an unescaped `%`
 * means "contains", so its `\`, `%` and `_` are escaped and it is wrapped in `%…%`; a value with one
 * is already a pattern (`"Lorem%"` = starts with) and is used as it is.
 */
export function likePattern(value: string): string {
  let escaped = ''
  let hasWildcard = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i)
    const next = value.charAt(i + 1)
    if (c === '\\' && SPECIAL.has(next)) {
      escaped += c + next
      i++
    } else {
      if (c === '%') hasWildcard = true
      escaped += SPECIAL.has(c) ? `\\${c}` : c
    }
  }
  return hasWildcard ? terminateEscape(value) : `%${escaped}%`
}

/** PostgreSQL rejects a pattern that ends with the escape character, so a lone final `\` is doubled. */
function terminateEscape(pattern: string): string {
  let i = 0
  let lone = false
  while (i < pattern.length) {
    lone = pattern.charAt(i) === '\\' && i === pattern.length - 1
    i += pattern.charAt(i) === '\\' ? 2 : 1
  }
  return lone ? `${pattern}\\` : pattern
}

type PatternPart = { readonly any: true } | { readonly any: false; readonly char: string | undefined }

/**
 * SQLite's `value LIKE pattern ESCAPE '\'` in JavaScript, for comparisons of two literals: ASCII
 * case-insensitive, `%` any run, `_` one character. Linear backtracking (no RegExp), so no pattern
 * can make it slow.
 */
export function likeMatches(value: string, pattern: string): boolean {
  const text = Array.from(value, foldAscii)
  const parts: PatternPart[] = []
  const chars = Array.from(pattern)
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === '\\') parts.push({ any: false, char: foldAscii(chars[++i] ?? '\\') })
    else if (c === '%') parts.push({ any: true })
    else parts.push({ any: false, char: c === '_' ? undefined : foldAscii(c) })
  }
  let t = 0
  let p = 0
  let star = -1
  let starText = 0
  while (t < text.length) {
    const part = parts[p]
    if (part !== undefined && !part.any && (part.char === undefined || part.char === text[t])) {
      t++
      p++
    } else if (part !== undefined && part.any) {
      star = p++
      starText = t
    } else if (star !== -1) {
      p = star + 1
      t = ++starText
    } else {
      return false
    }
  }
  while (parts[p]?.any === true) p++
  return p === parts.length
}

function foldAscii(c: string): string {
  return c >= 'A' && c <= 'Z' ? c.toLowerCase() : c
}
