import { createWriteStream, type WriteStream } from 'node:fs'
import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy'
import { newRecordId } from '../lib/index.js'
import { SNIFF_BYTES } from '../records/index.js'
import { badRequest, fieldError, GalleyError, isGalleyError, type ErrorData } from '../lib/index.js'

/** Parts (values and files) in one multipart body: Go's `multipart` default, so PocketBase's. */
export const MAX_MULTIPART_PARTS = 1000
/** File parts in one multipart body. */
export const MAX_MULTIPART_FILES = 500
/**
 * Bytes of all plain (non-file) values of one multipart body together, `@jsonPayload` included:
 * PocketBase's 16 MiB form memory plus the 10 MiB Go reserves for values.
 */
export const MAX_FORM_VALUES_BYTES = 26 * 1024 * 1024

/** A file part: counted, and streamed to a temporary file when the request keeps files. */
export interface UploadedFile {
  /** The part's name: a file field, possibly with a modifier (`documents+`) or a batch prefix. */
  readonly field: string
  readonly filename: string
  readonly mimeType: string
  readonly size: number
  /** The temporary file holding its bytes (kept parts only). */
  readonly tempPath?: string
  /** Its first SNIFF_BYTES bytes (kept parts only). */
  readonly head?: Buffer
}

/**
 * Where a request's file parts go: `limitOf(part)` is the most bytes a part may have, or undefined
 * for a part that is no file field (read and dropped, as PocketBase ignores unknown keys). A part
 * past its limit stops the reading at once with `tooBig(part, limit)`: it is never held in memory,
 * and on disk only up to the limit.
 */
export interface FileSink {
  readonly tempDir: string
  limitOf(part: string): number | undefined
  tooBig(part: string, limit: number): GalleyError
}

export interface MultipartForm {
  /** Plain values in the order they came, names repeated as sent. */
  readonly values: [string, string][]
  readonly files: UploadedFile[]
}

const tooLarge = (message: string) => new GalleyError('TOO_LARGE', message)

/**
 * Reads a multipart/form-data body from `stream` within `bodyLimit` bytes and the multipart
 * limits above. A part with a non-empty `filename` is a file (Go's rule: `filename=""` is a plain
 * value), a part without a name is skipped. Malformed or truncated bodies are a 400, bodies past a
 * limit a 413; either way reading stops at once.
 */
export function readMultipart(
  stream: NodeJS.ReadableStream,
  contentType: string,
  bodyLimit: number,
  sink?: FileSink,
): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    const values: [string, string][] = []
    const files: UploadedFile[] = []
    const writing = new Set<Promise<void>>()
    const outs: { out: WriteStream; path: string }[] = []
    let received = 0
    let valueBytes = 0
    let settled = false
    let ended = false

    let bb: BusboyInstance
    try {
      bb = Busboy({
        headers: { 'content-type': contentType },
        limits: {
          parts: MAX_MULTIPART_PARTS,
          files: MAX_MULTIPART_FILES,
          fieldSize: MAX_FORM_VALUES_BYTES,
          fileSize: bodyLimit,
        },
        isPartAFile: (_name, _type, filename) => filename !== undefined && filename !== '',
      })
    } catch (err) {
      reject(badRequest('Failed to read the submitted data: invalid multipart boundary.', undefined, err))
      return
    }

    const finish = (err: GalleyError | undefined) => {
      if (settled) return
      // Temporary files still being written are complete first (or failed, and the body with them).
      if (!err && writing.size > 0) {
        void Promise.all(writing).then(
          () => finish(undefined),
          (cause: unknown) => finish(badRequest('Failed to store the uploaded file.', undefined, cause)),
        )
        return
      }
      settled = true
      stream.removeListener('data', onData)
      stream.removeListener('end', onEnd)
      stream.removeListener('close', onClose)
      if (err) {
        // Stop reading: Fastify answers a parser error with `Connection: close`.
        stream.unpipe(bb)
        stream.pause()
        // Temporary files are removed, each once its stream is closed (it may still be opening),
        // before the error is answered: nothing of a refused body stays on disk.
        const removed = outs.map(
          ({ out, path }) =>
            new Promise<void>((res) => {
              const remove = () => void unlink(path).then(res, () => res())
              if (out.closed) remove()
              else {
                out.once('close', remove)
                out.destroy()
              }
            }),
        )
        void Promise.all(removed).then(() => reject(err))
      } else resolve({ values, files })
    }
    const malformed = (cause?: unknown) =>
      finish(badRequest('Failed to read the submitted data: malformed multipart body.', undefined, cause))

    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received > bodyLimit) finish(new GalleyError('TOO_LARGE'))
    }
    const onEnd = () => {
      ended = true
    }
    // A connection closed before the end of the body: busboy would wait for ever.
    const onClose = () => {
      if (!ended) malformed()
    }
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('close', onClose)
    stream.on('error', (err: unknown) => (isGalleyError(err) ? finish(err) : malformed(err)))

    bb.on('field', (name, value, _nameTruncated, valueTruncated) => {
      valueBytes += Buffer.byteLength(value)
      if (valueTruncated || valueBytes > MAX_FORM_VALUES_BYTES)
        return finish(tooLarge(`Form values may total at most ${MAX_FORM_VALUES_BYTES} bytes.`))
      if (name !== undefined) values.push([name, value])
    })
    bb.on('file', (name, file: BusboyFileStream, filename, _encoding, mimeType) => {
      const limit = sink && name !== undefined ? sink.limitOf(name) : undefined
      let size = 0
      const head: Buffer[] = []
      let headBytes = 0
      file.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (limit !== undefined && size > limit) return finish(sink!.tooBig(name!, limit))
        if (limit !== undefined && headBytes < SNIFF_BYTES) {
          const part = chunk.subarray(0, SNIFF_BYTES - headBytes)
          head.push(Buffer.from(part))
          headBytes += part.length
        }
      })
      file.on('limit', () => finish(new GalleyError('TOO_LARGE')))
      // Dicer reports a part cut short on the file stream; the body's own error follows.
      file.on('error', () => undefined)
      let tempPath: string | undefined
      if (limit !== undefined && sink) {
        tempPath = join(sink.tempDir, `upload_${newRecordId()}`)
        const out = createWriteStream(tempPath, { flags: 'wx' })
        outs.push({ out, path: tempPath })
        const done = new Promise<void>((res, rej) => {
          out.on('finish', res)
          out.on('error', rej)
        })
        writing.add(done)
        done.then(
          () => writing.delete(done),
          () => undefined,
        )
        file.pipe(out)
      }
      file.on('end', () => {
        if (name === undefined || settled) return
        if (limit === undefined && sink) return
        files.push({
          field: name,
          filename,
          mimeType,
          size,
          ...(tempPath !== undefined ? { tempPath, head: Buffer.concat(head) } : {}),
        })
      })
      if (limit === undefined) file.resume()
    })
    bb.on('partsLimit', () =>
      finish(tooLarge(`A multipart body may have at most ${MAX_MULTIPART_PARTS} parts.`)),
    )
    bb.on('filesLimit', () =>
      finish(tooLarge(`A multipart body may have at most ${MAX_MULTIPART_FILES} files.`)),
    )
    bb.on('error', (err) => {
      // An empty body is an empty form, as an empty JSON body is `{}`.
      if (received === 0 && ended) finish(undefined)
      else malformed(err)
    })
    bb.on('finish', () => finish(undefined))
    stream.pipe(bb)
  })
}

/** Message of a file part sent to an endpoint that keeps none. */
export const FILES_NOT_ACCEPTED = 'File uploads are not accepted by this endpoint.'

/**
 * Only record create, update and batch keep file parts: elsewhere, rather than
 * dropping them silently, a body with file parts is refused with a 400 naming each of their fields.
 */
export function rejectFileUploads(files: readonly UploadedFile[]): void {
  if (files.length === 0) return
  const message = FILES_NOT_ACCEPTED
  const data: ErrorData = {}
  for (const f of files) data[f.field] = fieldError('validation_invalid_file', message)
  throw badRequest(message, data)
}
