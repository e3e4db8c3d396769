import { GoRegexp } from './go-regexp.js'

/**
 * The email and URL formats PocketBase accepts (ozzo-validation's `is.EmailFormat` and `is.URL`, which
 * are govalidator's `IsEmail` and `IsURL`), written out as grammars and matched in linear time.
 */

// Unicode letters the email grammar allows besides ASCII (the BMP minus surrogates and specials).
const EMAIL_UNICODE = String.raw`\x{a0}-\x{d7ff}\x{f900}-\x{fdcf}\x{fdf0}-\x{ffef}`

const EMAIL = (() => {
  const atext = `[a-zA-Z0-9!#$%&'*+\\-/=?^_\`{|}~${EMAIL_UNICODE}]`
  const dotAtom = `${atext}+(?:\\.${atext}+)*`
  // Folding white space, then quoted text; govalidator's quoted pair begins with '(' (its escaping
  // turned `\\(` into a literal parenthesis), kept so the same addresses pass.
  const fws = String.raw`(?:[ \t]*\r\n)?[ \t]+`
  const qtext = String.raw`[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\x21\x23-\x5b\x5d-\x7e${EMAIL_UNICODE}]`
  const qpair = String.raw`\([\x01-\x09\x0b\x0c\x0d-\x7f${EMAIL_UNICODE}]`
  const quoted = `"(?:(?:${fws})?(?:${qtext}|${qpair}))*(?:${fws})?"`
  // Domain labels may hold dots (so any run of them passes); the last label may not.
  const inner = `[a-zA-Z0-9\\-._~${EMAIL_UNICODE}]`
  const label = `[a-zA-Z0-9${EMAIL_UNICODE}](?:${inner}*[a-zA-Z0-9${EMAIL_UNICODE}])?`
  const topInner = `[a-zA-Z0-9\\-_~${EMAIL_UNICODE}]`
  const top = `[a-zA-Z${EMAIL_UNICODE}](?:${topInner}*[a-zA-Z${EMAIL_UNICODE}])?`
  return new GoRegexp(`^(?:${dotAtom}|${quoted})@(?:${label}\\.)+${top}\\.?$`)
})()

/** Longer addresses are refused without matching (PocketBase has no limit; RFC 5321 allows 254). */
export const MAX_EMAIL_LENGTH = 2048

/** govalidator `IsEmail` (no DNS lookup), for addresses up to MAX_EMAIL_LENGTH characters. */
export function isEmail(s: string): boolean {
  return s.length <= MAX_EMAIL_LENGTH && EMAIL.test(s)
}

const URL_FORMAT = (() => {
  const octet = String.raw`(?:25[0-5]|(?:2[0-4]|1?[0-9])?[0-9])`
  const ipv4InV6 = String.raw`(?:${octet}\.){3}${octet}`
  const h = '[0-9a-fA-F]{1,4}'
  const ipv6 = [
    `(?:${h}:){7}${h}`,
    `(?:${h}:){1,7}:`,
    `(?:${h}:){1,6}:${h}`,
    `(?:${h}:){1,5}(?::${h}){1,2}`,
    `(?:${h}:){1,4}(?::${h}){1,3}`,
    `(?:${h}:){1,3}(?::${h}){1,4}`,
    `(?:${h}:){1,2}(?::${h}){1,5}`,
    `${h}:(?::${h}){1,6}`,
    `:(?:(?::${h}){1,7}|:)`,
    'fe80:(?::[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]+',
    `::(?:ffff(?::0{1,4})?:)?${ipv4InV6}`,
    `(?:${h}:){1,4}:${ipv4InV6}`,
  ].join('|')
  // Dotted IPv4 with govalidator's ranges: first part 1-223, 240-255; last part 0-255.
  const ipv4 = String.raw`(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(?:\.(?:\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}\.(?:[0-9]\d?|1\d\d|2[0-4]\d|25[0-5])`
  const labels = String.raw`[a-zA-Z0-9][a-zA-Z0-9_-]*[a-zA-Z0-9](?:[-.][a-zA-Z0-9]+)*`
  const subdomain = String.raw`www\.|[a-zA-Z0-9]+(?:[-_.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+`
  const w = String.raw`[a-zA-Z0-9\x{a1}-\x{ffff}]`
  const name = `${w}+(?:-{1,2}${w}+)*`
  const tld = String.raw`(?:\.[a-zA-Z\x{a1}-\x{ffff}]+)?`
  const host = `${ipv4}|\\[(?:${ipv6})\\]|(?:${labels}|${subdomain})?${name}${tld}`
  const scheme = '(?:(?:ftp|tcp|udp|wss?|https?)://)?'
  const userinfo = String.raw`(?:\S+(?::\S*)?@)?`
  return new GoRegexp(String.raw`^${scheme}${userinfo}(?:${host})\.?(?::\d{1,5})?(?:[/?#]\S*)?$`)
})()

/** govalidator `IsURL`: length 4..2082, a Go-parsable URL with a sane host, then the URL grammar. */
export function isURL(s: string): boolean {
  if (s === '' || Buffer.byteLength(s) <= 3 || [...s].length >= 2083 || s.startsWith('.')) return false
  const parsed = parseGoURL(s.includes(':') && !s.includes('://') ? `http://${s}` : s)
  if (!parsed) return false
  if (parsed.host.startsWith('.')) return false
  if (parsed.host === '' && parsed.path !== '' && !parsed.path.includes('.')) return false
  return URL_FORMAT.test(s)
}

export interface GoURL {
  readonly scheme: string
  readonly host: string
  readonly path: string
}

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/
const USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/
// ASCII characters Go's url package accepts unescaped in a host (besides letters and digits).
const HOST_ASCII = /^[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"%\u0080-\u{10ffff}]*$/u

/** Go's `url.Parse` for what IsURL and the domain lists need: undefined where Go returns an error. */
export function parseGoURL(raw: string): GoURL | undefined {
  const hash = raw.indexOf('#')
  if (hash >= 0 && BAD_ESCAPE.test(raw.slice(hash + 1))) return undefined
  let rest = hash >= 0 ? raw.slice(0, hash) : raw
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(rest)) return undefined
  let scheme = ''
  const m = SCHEME.exec(rest)
  if (m) {
    scheme = m[0].slice(0, -1).toLowerCase()
    rest = rest.slice(m[0].length)
  } else if (rest.startsWith(':')) return undefined // missing protocol scheme
  const q = rest.indexOf('?')
  if (q >= 0) rest = rest.slice(0, q)
  if (!rest.startsWith('/')) {
    if (scheme !== '') return { scheme, host: '', path: '' } // opaque
    const colon = rest.indexOf(':')
    const slash = rest.indexOf('/')
    if (colon >= 0 && (slash < 0 || colon < slash)) return undefined // colon in first path segment
  }
  let host = ''
  if ((scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const end = rest.indexOf('/', 2)
    const authority = end < 0 ? rest.slice(2) : rest.slice(2, end)
    rest = end < 0 ? '' : rest.slice(end)
    const at = authority.lastIndexOf('@')
    if (at >= 0 && (!USERINFO.test(authority.slice(0, at)) || BAD_ESCAPE.test(authority.slice(0, at))))
      return undefined
    const h = parseGoHost(authority.slice(at + 1))
    if (h === undefined) return undefined
    host = h
  }
  if (BAD_ESCAPE.test(rest)) return undefined
  return { scheme, host, path: decodePath(rest) }
}

function parseGoHost(host: string): string | undefined {
  let port = ''
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']')
    if (close < 0) return undefined
    port = host.slice(close + 1)
  } else {
    const colon = host.lastIndexOf(':')
    if (colon >= 0) port = host.slice(colon)
  }
  if (port !== '' && !/^:\d*$/.test(port)) return undefined
  if (!HOST_ASCII.test(host)) return undefined
  // Escapes in a host must be valid and may only encode non-ASCII bytes (or '%' itself).
  for (const esc of host.matchAll(/%(..)?/g)) {
    const hex = esc[1]
    if (hex === undefined || !/^[0-9a-fA-F]{2}$/.test(hex)) return undefined
    if (Number.parseInt(hex, 16) < 0x80 && hex !== '25') return undefined
  }
  return host
}

function decodePath(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}
