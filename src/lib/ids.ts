import { randomBytes, randomInt } from 'node:crypto'

export const ALPHANUMERIC_LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789'
export const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Uniformly random string from `alphabet` (rejection sampling: no modulo bias). */
export function randomString(length: number, alphabet: string = ALPHANUMERIC): string {
  const n = alphabet.length
  const limit = 256 - (256 % n)
  let out = ''
  while (out.length < length) {
    const bytes = randomBytes(length * 2)
    for (const b of bytes) {
      if (b < limit) out += alphabet[b % n]
      if (out.length === length) break
    }
  }
  return out
}

/** A record id: 15 chars of `[a-z0-9]`, like PocketBase's. */
export function newRecordId(): string {
  return randomString(15, ALPHANUMERIC_LOWER)
}

export function randomDigits(length: number): string {
  let s = ''
  for (let i = 0; i < length; i++) s += String(randomInt(10))
  return s
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (IEEE) of the UTF-8 bytes of `text`, as PocketBase uses for default collection and field ids. */
export function crc32(text: string): number {
  let crc = 0xffffffff
  for (const byte of Buffer.from(text, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
