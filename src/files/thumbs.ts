import { availableParallelism } from 'node:os'
import { Readable } from 'node:stream'
import sharp from 'sharp'
import { Semaphore, silentLogger, type Logger } from '../lib/index.js'
import { detectMimeType, thumbKey, type FileStore } from '../records/index.js'

/** A thumb size of PocketBase (§10.1): `WxH` crop center, `t` top, `b` bottom, `f` fit; a 0 keeps the aspect. */
const THUMB_SIZE = /^(\d{1,9})x(\d{1,9})(t|b|f)?$/
/** The size every image field allows, listed or not (PocketBase's default thumb). */
export const DEFAULT_THUMB = '100x100'
/** Originals a thumb is made of (PocketBase's list: the formats it can decode). */
const THUMB_SOURCES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp']

/** Limits of thumbnail generation. */
export interface ThumbLimits {
  /** Decoded pixels an original may have (sharp's `limitInputPixels`): a decompression bomb is refused. */
  readonly maxInputPixels: number
  /** Bytes of an original read into memory for decoding; a larger one is served as it is. */
  readonly maxInputBytes: number
  /** Largest width or height of a thumb, and pixels of the thumb as computed. */
  readonly maxDimension: number
  readonly maxOutputPixels: number
  /** Generations at once, and waiting for a slot (beyond it the original is served). */
  readonly concurrency: number
  readonly maxQueue: number
  /** Seconds one generation may take in sharp. */
  readonly timeoutSeconds: number
  /**
   * How long a request waits for its thumb (queued and generated) before the original is served
   * instead; the generation goes on, and a later request finds the thumb stored.
   */
  readonly maxWaitMs: number
}

export const DEFAULT_THUMB_LIMITS: ThumbLimits = {
  maxInputPixels: 40_000_000,
  maxInputBytes: 64 * 1024 * 1024,
  maxDimension: 4096,
  maxOutputPixels: 16_777_216,
  concurrency: Math.max(1, Math.min(4, availableParallelism())),
  maxQueue: 64,
  timeoutSeconds: 20,
  maxWaitMs: 30_000,
}

export interface ThumbSize {
  readonly width: number
  readonly height: number
  readonly mode: 'center' | 't' | 'b' | 'f'
}

/** A thumb size string, or undefined when it is not one (`0x0` neither). */
export function parseThumbSize(s: string): ThumbSize | undefined {
  const m = THUMB_SIZE.exec(s)
  if (!m) return undefined
  const width = Number(m[1])
  const height = Number(m[2])
  if (width === 0 && height === 0) return undefined
  return { width, height, mode: (m[3] as 't' | 'b' | 'f' | undefined) ?? 'center' }
}

/** Whether the field with `thumbs` allows `size` (§10.1: listed, or the default 100x100). */
export function thumbAllowed(thumbs: readonly string[] | null | undefined, size: string): boolean {
  return size === DEFAULT_THUMB || (thumbs ?? []).includes(size)
}

/** The output dimensions of `size` applied to a `w`×`h` original, as PocketBase's imaging calls give them. */
export function thumbDimensions(size: ThumbSize, w: number, h: number): { width: number; height: number } {
  if (size.width === 0) return { width: Math.max(1, Math.round((w * size.height) / h)), height: size.height }
  if (size.height === 0) return { width: size.width, height: Math.max(1, Math.round((h * size.width) / w)) }
  if (size.mode === 'f') {
    // imaging.Fit: inside the box, never enlarged
    if (w <= size.width && h <= size.height) return { width: w, height: h }
    const scale = Math.min(size.width / w, size.height / h)
    return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) }
  }
  return { width: size.width, height: size.height }
}

/**
 * Thumbnails (§10.1): made with sharp on first request from the stored original, stored through the
 * FileStore beside it, served from there afterwards. A thumb is generated once even when many
 * requests ask at the same time; generations run a few at a time, a bounded queue waits for a slot.
 * Anything that keeps a thumb from being made (not an image, a decompression bomb, a corrupt file,
 * a size past the limits, a full queue) gives undefined: the caller serves the original.
 */
export class ThumbGenerator {
  readonly #limits: ThumbLimits
  readonly #logger: Logger
  readonly #slots: Semaphore
  readonly #inFlight = new Map<string, Promise<boolean>>()
  /** Generations run (for tests and logs). */
  generated = 0

  constructor(limits: Partial<ThumbLimits> = {}, logger: Logger = silentLogger) {
    this.#limits = { ...DEFAULT_THUMB_LIMITS, ...limits }
    this.#logger = logger
    this.#slots = new Semaphore(this.#limits.concurrency, this.#limits.maxQueue)
  }

  /**
   * The key of the `size` thumb of the file at `key` (whose first bytes are `head`), generating it
   * when it is not stored yet; undefined when the original is to be served instead.
   */
  async thumb(store: FileStore, key: string, head: Buffer, sizeText: string): Promise<string | undefined> {
    const size = parseThumbSize(sizeText)
    if (!size || !THUMB_SOURCES.includes(detectMimeType(head))) return undefined
    if (size.width > this.#limits.maxDimension || size.height > this.#limits.maxDimension) return undefined
    const target = thumbKey(key, sizeText)
    if (await store.stat(target)) return target
    let pending = this.#inFlight.get(target)
    if (!pending) {
      pending = this.#generate(store, key, target, size).finally(() => this.#inFlight.delete(target))
      this.#inFlight.set(target, pending)
    }
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<false>(
      (resolve) => (timer = setTimeout(() => resolve(false), this.#limits.maxWaitMs)),
    )
    try {
      return (await Promise.race([pending, late])) ? target : undefined
    } finally {
      clearTimeout(timer)
    }
  }

  async #generate(store: FileStore, key: string, target: string, size: ThumbSize): Promise<boolean> {
    try {
      const ran = await this.#slots.run(async () => {
        // Made by another instance (or an earlier request) while this one waited.
        if (await store.stat(target)) return true
        const info = await store.stat(key)
        if (!info || info.size > this.#limits.maxInputBytes) return false
        const chunks: Buffer[] = []
        for await (const chunk of await store.open(key)) chunks.push(chunk as Buffer)
        const out = await this.#render(Buffer.concat(chunks), size)
        if (!out) return false
        await store.put(target, Readable.from([out]))
        this.generated++
        return true
      })
      if (!ran) this.#logger.warn({ key: target }, 'thumbnail queue full: original served')
      return ran?.value ?? false
    } catch (err) {
      this.#logger.warn({ err, key: target }, 'thumbnail generation failed: original served')
      return false
    }
  }

  /** The thumb's bytes, or undefined when the original must not (or cannot) be made into one. */
  async #render(input: Buffer, size: ThumbSize): Promise<Buffer | undefined> {
    const l = this.#limits
    const options = { limitInputPixels: l.maxInputPixels, failOn: 'error', pages: 1 } as const
    // The header alone first: a bomb is refused before a pixel is decoded.
    const meta = await sharp(input, options).metadata()
    const w = meta.autoOrient.width
    const h = meta.autoOrient.height
    if (!w || !h || w * h > l.maxInputPixels) return undefined
    const out = thumbDimensions(size, w, h)
    if (
      out.width > l.maxDimension ||
      out.height > l.maxDimension ||
      out.width * out.height > l.maxOutputPixels
    )
      return undefined
    const fit = size.mode === 'f' || size.width === 0 || size.height === 0 ? 'fill' : 'cover'
    const position = size.mode === 't' ? 'top' : size.mode === 'b' ? 'bottom' : 'centre'
    let img = sharp(input, options)
      .timeout({ seconds: l.timeoutSeconds })
      .autoOrient()
      .resize(out.width, out.height, { fit, position })
    // WebP thumbs are PNG, as PocketBase's (it has no WebP encoder); other formats stay as they are.
    if (meta.format === 'jpeg') img = img.jpeg({ quality: 85 })
    else if (meta.format === 'gif') img = img.gif()
    else img = img.png()
    return img.toBuffer()
  }
}
