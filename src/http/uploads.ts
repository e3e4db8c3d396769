import { mkdirSync } from 'node:fs'
import type { FastifyRequest } from 'fastify'
import { badRequest, fieldError } from '../lib/index.js'
import { batchFilePart, batchItemFailure } from './batch-request.js'
import { fileMaxSize } from '../records/index.js'
import { parseBodyKey, type CollectionService } from '../schema/index.js'
import type { FileSink } from './multipart.js'

/** Where the body parser may keep the file parts of a request. */
export interface UploadOptions {
  readonly tempDir: string
  /** The sink of a request whose route takes files, else undefined (its file parts are refused). */
  sinkFor(req: FastifyRequest): FileSink | undefined
}

const CREATE = '/api/collections/:c/records'
const UPDATE = '/api/collections/:c/records/:id'
const BATCH = '/api/batch'

/**
 * The sink of a batch (§12). Its file parts come before the `@jsonPayload` that says which
 * collection each request writes (the SDK sends them so), so a part is kept up to the largest
 * `maxSize` of the file fields of that name in any collection, and checked against its own field's
 * when its request runs; a part naming no file field anywhere is dropped.
 */
function batchSink(collections: CollectionService, tempDir: string): FileSink {
  const fieldOf = (part: string) => {
    const p = batchFilePart(part)
    return p === undefined ? undefined : parseBodyKey(p.key).name
  }
  return {
    tempDir,
    limitOf: (part) => {
      const name = fieldOf(part)
      if (name === undefined) return undefined
      let limit: number | undefined
      for (const c of collections.all())
        for (const f of c.fields)
          if (f.type === 'file' && f.name === name) limit = Math.max(limit ?? 0, fileMaxSize(f))
      return limit
    },
    tooBig: (part, limit) => {
      const p = batchFilePart(part)!
      const name = fieldOf(part)!
      const response = badRequest('Failed to upload a file.', {
        [name]: fieldError(
          'validation_file_size_limit',
          `Failed to upload a file - the maximum allowed file size is ${limit} bytes.`,
          { maxSize: limit },
        ),
      })
      return batchItemFailure(p.index, response)
    },
  }
}

/**
 * Record create and update take files (§10.4), and batch (§12, batchSink): a part named after a file field (with or without a
 * modifier) is kept up to the field's `maxSize`, and one byte more stops the reading with the
 * field's `validation_file_size_limit`; parts naming no file field are read and dropped.
 */
export function recordUploads(collections: CollectionService, tempDir: string): UploadOptions {
  mkdirSync(tempDir, { recursive: true })
  return {
    tempDir,
    sinkFor(req) {
      const route = req.routeOptions.url
      if (req.method === 'POST' && route === BATCH) return batchSink(collections, tempDir)
      const create = req.method === 'POST' && route === CREATE
      if (!create && !(req.method === 'PATCH' && route === UPDATE)) return undefined
      const c = collections.find(String((req.params as Record<string, unknown>).c))
      const fieldOf = (part: string) => {
        const { name } = parseBodyKey(part)
        return c?.fields.find((f) => f.type === 'file' && f.name === name)
      }
      return {
        tempDir,
        limitOf: (part) => {
          const f = fieldOf(part)
          return f ? fileMaxSize(f) : undefined
        },
        tooBig: (part, limit) =>
          badRequest(create ? 'Failed to create record.' : 'Failed to update record.', {
            [fieldOf(part)?.name ?? part]: fieldError(
              'validation_file_size_limit',
              `Failed to upload a file - the maximum allowed file size is ${limit} bytes.`,
              { maxSize: limit },
            ),
          }),
      }
    },
  }
}
