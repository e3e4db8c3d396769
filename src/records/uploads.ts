import type { Readable } from 'node:stream'
import { ALPHANUMERIC_LOWER, randomString } from '../lib/index.js'

/** Bytes of an upload kept in memory for content detection (the rest only streams to disk). */
export const SNIFF_BYTES = 4100

/**
 * A file part of a request, already streamed to a temporary file by the transport. Only the
 * multipart parser creates these, so a JSON body can never hold one.
 */
export class Upload {
  constructor(
    /** The name the client gave the file. */
    readonly originalName: string,
    /** Where its bytes wait until the record is saved; removed by the transport after the response. */
    readonly tempPath: string,
    readonly size: number,
    /** The first SNIFF_BYTES bytes (fewer when the file is shorter). */
    readonly head: Buffer,
  ) {}
}

/** What a stored file reports. */
export interface StoredFileInfo {
  readonly size: number
  readonly modified: Date
}

/**
 * Storage of record files, under keys `<collectionId>/<recordId>/<filename>` (§10.1): records
 * receives one (files implements it, local disk or S3), as it receives the password hasher.
 */
export interface FileStore {
  /** Writes `body` under `key`, replacing any file there. */
  put(key: string, body: Readable): Promise<void>
  /**
   * Moves the local file at `path` to `key` (an upload's temporary file: the local store renames it
   * when it can, which is instant, so a write transaction is not held for a copy).
   */
  putFile(key: string, path: string): Promise<void>
  /** The file's bytes `start`..`end` (inclusive), or all of them. */
  open(key: string, range?: { start: number; end: number }): Promise<Readable>
  /** undefined when there is no such file. */
  stat(key: string): Promise<StoredFileInfo | undefined>
  /** Removes the file; no error when it is not there. */
  delete(key: string): Promise<void>
  /** Removes every file whose key starts with `prefix` (a record's folder). */
  deletePrefix(prefix: string): Promise<void>
  /** Keys starting with `prefix`. */
  list(prefix: string): Promise<string[]>
  /**
   * Removes the store's own temporary files last written at or before `olderThan` (a write cut short by
   * a crash), and says how many; a store whose writes are atomic has none and needs no such method.
   */
  sweepTemporary?(olderThan: Date): Promise<number>
}

/** The storage key of a record's file. */
export const fileKey = (collectionId: string, recordId: string, name: string): string =>
  `${collectionId}/${recordId}/${name}`

/** The storage key of a thumb: `thumbs_<filename>/<size>_<filename>` beside the file (PocketBase's layout). */
export function thumbKey(fileKey: string, size: string): string {
  const slash = fileKey.lastIndexOf('/')
  const dir = fileKey.slice(0, slash + 1)
  const name = fileKey.slice(slash + 1)
  return `${dir}thumbs_${name}/${size}_${name}`
}

/** The prefix of all thumbs of a file (removed with it). */
export function thumbsPrefix(fileKey: string): string {
  const slash = fileKey.lastIndexOf('/')
  return `${fileKey.slice(0, slash + 1)}thumbs_${fileKey.slice(slash + 1)}/`
}

/**
 * A stored filename is built by normalizeFileName only: word characters (letters and digits of any
 * script, `_`), and `. * - + = #` in the extension. Anything else submitted as a name is not one.
 */
export const STORED_NAME = /^[\p{L}\p{N}_][\p{L}\p{N}_.*\-+=#]{0,149}$/u

/** The extension as PocketBase reads it: from the second-to-last dot (`backup.tar.gz` → `.tar.gz`). */
function extensionOf(name: string): string {
  const primary = name.lastIndexOf('.')
  if (primary === -1) return ''
  const secondary = name.lastIndexOf('.', primary - 1)
  return name.slice(secondary >= 0 ? secondary : primary)
}

/** Go's `inflector.Snakecase`: words of letters and digits, camelCase split, lower-cased, `_`-joined. */
function snakecase(s: string): string {
  let out = ''
  for (const word of s.split(/[^\p{L}\p{N}]+/u)) {
    if (word === '') continue
    let i = 0
    for (const ch of word) {
      const upper = ch !== ch.toLowerCase() && ch === ch.toUpperCase()
      if (upper && i > 0 && out.length > 0 && !out.endsWith('_')) out += '_'
      out += upper ? ch.toLowerCase() : ch
      i++
    }
    out += '_'
  }
  return out.replace(/^_+|_+$/g, '')
}

const EXTENSIONS: Record<string, string> = {
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/gif': '.gif',
  'image/webp': '.webp',
  'image/bmp': '.bmp',
  'image/svg+xml': '.svg',
  'application/pdf': '.pdf',
  'application/zip': '.zip',
  'text/html': '.html',
  'text/xml': '.xml',
  'text/plain': '.txt',
  'video/mp4': '.mp4',
  'video/webm': '.webm',
  'audio/mpeg': '.mp3',
  'audio/ogg': '.ogg',
  'audio/wav': '.wav',
}

/**
 * PocketBase's filename normalisation (§10.3): `<snake_cased base>_<10 random [a-z0-9]><.ext>`, the
 * original cut to its last 300 bytes, the extension cleaned to `\w . * - + = #` (at most 20
 * characters, from the content when none is left), a base under 3 characters padded with 10 random
 * characters, a base over 100 cut. No separator, NUL or lone dot survives: the result is one path
 * segment (STORED_NAME).
 */
export function normalizeFileName(original: string, head: Buffer): string {
  let name = original
  const bytes = Buffer.from(name)
  if (bytes.length > 300)
    name = bytes
      .subarray(bytes.length - 300)
      .toString('utf8')
      .replace(/^\uFFFD+/, '')
  const rawExt = extensionOf(name)
  // A run of dots is one dot: `..x` must not stay a `..` anywhere in the name.
  let ext = rawExt.replace(/[^\w.*\-+=#]+/g, '').replace(/\.{2,}/g, '.')
  if (ext === '.' || ext === '') ext = EXTENSIONS[detectMimeType(head)] ?? ''
  if (ext.length > 20) ext = '.' + ext.slice(ext.length - 20).replace(/^\.+/, '')
  if (!ext.startsWith('.') && ext !== '') ext = '.' + ext
  let base = snakecase(rawExt === '' ? name : name.slice(0, name.length - rawExt.length))
  if (base.length < 3) base += randomString(10, ALPHANUMERIC_LOWER)
  else if (base.length > 100) base = [...base].slice(0, 100).join('').replace(/_+$/, '')
  return `${base}_${randomString(10, ALPHANUMERIC_LOWER)}${ext}`
}

const startsWith = (b: Buffer, sig: readonly number[], at = 0) =>
  b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x)
const ascii = (b: Buffer, at: number, s: string) => b.toString('latin1', at, at + s.length) === s

/**
 * The MIME type of a file from its first bytes (never its name or declared type): the binary
 * formats below by their signatures; text by its start (SVG, HTML and XML are told apart, as they
 * are active content); `text/plain` for other text, `application/octet-stream` for anything else.
 */
export function detectMimeType(head: Buffer): string {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return 'image/gif'
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return 'image/webp'
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return 'audio/wav'
  if (ascii(head, 0, 'BM') && head.length >= 26 && head.readUInt32LE(14) >= 12) return 'image/bmp'
  if (ascii(head, 0, '%PDF-')) return 'application/pdf'
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return 'application/zip'
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm'
  if (ascii(head, 4, 'ftyp')) return 'video/mp4'
  if (ascii(head, 0, 'ID3') || startsWith(head, [0xff, 0xfb])) return 'audio/mpeg'
  if (ascii(head, 0, 'OggS')) return 'audio/ogg'
  // Text: no control bytes other than whitespace, and valid UTF-8 (a cut last character aside).
  for (const b of head)
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) return 'application/octet-stream'
  const text = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase()
  if (text.includes('\uFFFD', 0) && text.indexOf('\uFFFD') < text.length - 4)
    return 'application/octet-stream'
  if (
    /<svg[\s>]/.test(text.slice(0, 1024)) &&
    (text.startsWith('<svg') || text.startsWith('<?xml') || text.startsWith('<!'))
  )
    return 'image/svg+xml'
  if (
    /^<(!doctype html|html|head|script|body|iframe|h1|div|font|table|a|style|title|b|br|p|!--)[\s>]/.test(
      text,
    )
  )
    return 'text/html'
  if (text.startsWith('<?xml')) return 'text/xml'
  return 'text/plain'
}

/** Types served inline; everything else (SVG, HTML, XML, scripts, archives…) only as an attachment. */
export function isSafeInline(mimeType: string): boolean {
  return (
    [
      'image/png',
      'image/jpeg',
      'image/gif',
      'image/webp',
      'image/bmp',
      'application/pdf',
      'text/plain',
    ].includes(mimeType) ||
    mimeType.startsWith('audio/') ||
    mimeType.startsWith('video/')
  )
}
