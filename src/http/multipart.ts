import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy'
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

/** A file part, read and set aside: file storage (issue 6) will keep the bytes. */
export interface UploadedFile {
  /** The part's name: a file field, possibly with a modifier (`documents+`) or a batch prefix. */
  readonly field: string
  readonly filename: string
  readonly mimeType: string
  readonly size: number
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
): Promise<MultipartForm> {
  return new Promise((resolve, reject) => {
    const values: [string, string][] = []
    const files: UploadedFile[] = []
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
      settled = true
      stream.removeListener('data', onData)
      stream.removeListener('end', onEnd)
      stream.removeListener('close', onClose)
      if (err) {
        // Stop reading: Fastify answers a parser error with `Connection: close`.
        stream.unpipe(bb)
        stream.pause()
        reject(err)
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
      let size = 0
      file.on('data', (chunk: Buffer) => (size += chunk.length))
      file.on('limit', () => finish(new GalleyError('TOO_LARGE')))
      // Dicer reports a part cut short on the file stream; the body's own error follows.
      file.on('error', () => undefined)
      file.on('end', () => {
        if (name !== undefined) files.push({ field: name, filename, mimeType, size })
      })
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

/**
 * File uploads need file storage, which Galley does not have yet: rather than dropping them
 * silently, a body with file parts is refused with a 400 naming each of their fields.
 */
export function rejectFileUploads(files: readonly UploadedFile[]): void {
  if (files.length === 0) return
  const message = 'File uploads are not supported yet.'
  const data: ErrorData = {}
  for (const f of files) data[f.field] = fieldError('validation_invalid_file', message)
  throw badRequest(message, data)
}
