/** A key segment: no separator, NUL or control character, not `.`/`..`, not empty, not too long. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what a segment must not hold
const SEGMENT = /^(?!\.{1,2}$)[^/\\\0-\x1f\x7f]{1,255}$/
/** Segments in a key: `<collectionId>/<recordId>/<filename>`, and thumbnails one level deeper. */
const MAX_SEGMENTS = 8

/**
 * The segments of a storage key (or, with `prefix`, of a folder: a trailing `/` is allowed), each
 * checked: every store, local or S3, takes only keys that name a place inside its own root, so no
 * key can reach another folder however a store or a server between resolves `.`, `..` or `\`.
 */
export function keySegments(key: string, prefix = false): string[] {
  const parts = key.split('/')
  if (prefix && parts.length > 1 && parts[parts.length - 1] === '') parts.pop()
  if (parts.length > MAX_SEGMENTS || !parts.every((p) => SEGMENT.test(p)))
    throw new Error(`invalid file key ${JSON.stringify(key)}`)
  return parts
}
