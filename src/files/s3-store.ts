import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { GalleyError, isGalleyError, newRecordId, notFound, type Logger } from '../lib/index.js'
import type { FileStore, StoredFileInfo } from '../records/index.js'
import type { S3Config } from '../settings/index.js'
import { keySegments } from './file-key.js'

/** Time limits and retries of every S3 call: a dead or stalled endpoint fails in seconds. */
export interface S3Limits {
  /** To open the TCP (and TLS) connection. */
  readonly connectMs: number
  /** From sending a request until its response headers, for calls without a large body to send. */
  readonly responseMs: number
  /**
   * From the start of a call (all its tries) until its response headers, for every call but an
   * upload (whose body may take long to send: the idle limit bounds it instead).
   */
  readonly deadlineMs: number
  /** Without a byte either way on a transfer's socket (uploads and downloads of any size). */
  readonly idleMs: number
  /** Tries of each call (a network failure or a 5xx/throttling answer is retried). */
  readonly attempts: number
  /** Pages of PAGE keys one listing walks at most, against a server that never ends one. */
  readonly listPages: number
}

export const S3_LIMITS: S3Limits = {
  connectMs: 2000,
  responseMs: 5000,
  deadlineMs: 8000,
  idleMs: 30_000,
  attempts: 3,
  listPages: 10_000,
}

/** Objects per ListObjectsV2 page and per DeleteObjects call (S3's maximum for both). */
const PAGE = 1000
/** Failures logged at most once a second (with the count of those not logged): a dead endpoint under load. */
const LOG_EVERY_MS = 1000

const S3_UNAVAILABLE = 'The file storage is unavailable. Please try again later.'

/** A short description of an S3 or network error, for a superuser (the test endpoint) and the logs. */
export function describeS3Error(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode
    return `${err.name}${status ? ` (HTTP ${status})` : ''}: ${err.message || 'no message'}`
  }
  if (err instanceof AggregateError && err.errors.length > 0) return describeS3Error(err.errors[0])
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    return err.message || code || err.name
  }
  return String(err)
}

/** A client with the limits on every call, for an S3-compatible server as PocketBase configures it. */
function newS3Client(config: S3Config, limits: S3Limits, logger?: S3ClientConfig['logger']): S3Client {
  return new S3Client({
    endpoint: config.endpoint || undefined,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    credentials: { accessKeyId: config.accessKey, secretAccessKey: config.secret },
    maxAttempts: limits.attempts,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: limits.connectMs,
      requestTimeout: limits.responseMs,
      throwOnRequestTimeout: true,
      socketTimeout: limits.idleMs,
    },
    logger,
  })
}

const statusOf = (err: unknown) =>
  err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined

/**
 * The S3-compatible file store (issue 6): key `<collectionId>/<recordId>/<filename>` is the object
 * of that key in the bucket, the same layout as the local store, so switching stores renames
 * nothing. Keys are checked segment by segment as on disk. Every call has a connect, response and
 * idle limit and a bounded number of tries; a failure reaches the client as a 503 (a missing
 * object as a 404) in the usual error shape, with the cause in the logs.
 *
 * Uploads stream from their temporary file with its known length (no file is held in memory),
 * each try reopening it; `put` of a stream of unknown length first spools it to `tempDir`.
 * Checksums are asked only where S3 requires them: the newer default (a chunked, trailing
 * checksum) is not understood by many S3-compatible servers.
 */
export class S3FileStore implements FileStore {
  readonly #client: S3Client
  readonly #bucket: string
  readonly #tempDir: string
  readonly #limits: S3Limits
  readonly #logger: Logger | undefined
  /** Calls and open downloads in progress: a retired store closes its connections after the last. */
  #active = 0
  #retired = false
  #loggedAt = 0
  #unlogged = 0

  constructor(config: S3Config, opts: { tempDir: string; limits?: S3Limits; logger?: Logger }) {
    this.#bucket = config.bucket
    this.#tempDir = opts.tempDir
    this.#limits = opts.limits ?? S3_LIMITS
    this.#logger = opts.logger
    const log = this.#logger
    this.#client = newS3Client(config, this.#limits, {
      // the SDK's own notices (a streaming call not retried…) go to the logs, not the console
      debug: () => undefined,
      info: () => undefined,
      warn: (...args: unknown[]) => log?.debug({ s3: args }, 's3 client notice'),
      error: (...args: unknown[]) => log?.warn({ s3: args }, 's3 client error'),
    })
  }

  get bucket(): string {
    return this.#bucket
  }

  /** The object key of a file key, checked as on disk. */
  static objectKey(key: string): string {
    return keySegments(key).join('/')
  }

  /** The listing prefix of a folder key: always ending in `/`, so `c/r1` never matches `c/r10/…`. */
  static objectPrefix(prefix: string): string {
    return `${keySegments(prefix, true).join('/')}/`
  }

  /**
   * Runs one S3 call, counted as active, its failure mapped to a client-facing error. `signal`
   * aborts it at the deadline; once `run` returned it never fires (a download's body is not cut).
   * An upload has no deadline (its body may take long to send): its idle limit bounds it.
   */
  async #call<T>(
    what: string,
    key: string,
    run: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    this.#active++
    const abort = what === 'put' ? undefined : new AbortController()
    const ms = this.#limits.deadlineMs
    const timer = abort && setTimeout(() => abort.abort(new Error(`no answer within ${ms} ms`)), ms)
    try {
      return await run(abort?.signal)
    } catch (err) {
      throw this.#failure(what, key, abort?.signal.aborted ? abort.signal.reason : err)
    } finally {
      clearTimeout(timer)
      this.#release()
    }
  }

  #failure(what: string, key: string, err: unknown): Error {
    if (isGalleyError(err)) return err
    const status = statusOf(err)
    if (status === 404 && (what === 'get' || what === 'stat')) return notFound()
    const now = Date.now()
    if (now - this.#loggedAt >= LOG_EVERY_MS) {
      this.#logger?.error(
        { err: describeS3Error(err), op: what, key, bucket: this.#bucket, notLogged: this.#unlogged },
        's3 call failed',
      )
      this.#loggedAt = now
      this.#unlogged = 0
    } else this.#unlogged++
    return new GalleyError('UNAVAILABLE', S3_UNAVAILABLE, undefined, { cause: err })
  }

  #release(): void {
    this.#active--
    if (this.#retired && this.#active === 0) this.#client.destroy()
  }

  /**
   * Stops taking new work and closes the connections once the calls and downloads in progress end
   * (a settings change: downloads that started on this store finish on it).
   */
  retire(): void {
    this.#retired = true
    if (this.#active === 0) this.#client.destroy()
  }

  async put(key: string, body: Readable): Promise<void> {
    const objectKey = S3FileStore.objectKey(key)
    await mkdir(this.#tempDir, { recursive: true })
    const temp = join(this.#tempDir, `s3_${newRecordId()}`)
    try {
      await pipeline(body, createWriteStream(temp, { flags: 'wx' }))
      await this.putFile(objectKey, temp)
    } finally {
      await unlink(temp).catch(() => undefined)
    }
  }

  /** Uploads the file at `path` (left in place: its owner removes it), streamed with its length. */
  async putFile(key: string, path: string): Promise<void> {
    const objectKey = S3FileStore.objectKey(key)
    const { size } = await stat(path)
    await this.#call('put', key, async () => {
      // The SDK does not retry a streamed body: each try here opens the file again.
      for (let attempt = 1; ; attempt++) {
        const body = createReadStream(path)
        try {
          await this.#client.send(
            new PutObjectCommand({ Bucket: this.#bucket, Key: objectKey, Body: body, ContentLength: size }),
            // no response deadline for the body's transfer: the idle limit bounds a stall instead
            { requestTimeout: 0 },
          )
          return
        } catch (err) {
          const status = statusOf(err)
          const retryable = status === undefined || status >= 500 || status === 429
          if (!retryable || attempt >= this.#limits.attempts) throw err
          await new Promise((r) => setTimeout(r, 100 * 2 ** attempt))
        } finally {
          // a failed try may leave its file open
          body.destroy()
        }
      }
    })
  }

  async open(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const objectKey = S3FileStore.objectKey(key)
    return this.#call('get', key, async (abortSignal) => {
      const out = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: objectKey,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
        { abortSignal },
      )
      const body = out.Body as unknown as Readable | undefined
      if (!body) throw new Error('S3 returned no body')
      // An open download keeps a retired store's connections until it ends.
      this.#active++
      body.once('close', () => this.#release())
      return body
    })
  }

  async stat(key: string): Promise<StoredFileInfo | undefined> {
    const objectKey = S3FileStore.objectKey(key)
    try {
      const out = await this.#call('stat', key, (abortSignal) =>
        this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: objectKey }), { abortSignal }),
      )
      return { size: out.ContentLength ?? 0, modified: out.LastModified ?? new Date(0) }
    } catch (err) {
      if (isGalleyError(err) && err.status === 404) return undefined
      throw err
    }
  }

  async delete(key: string): Promise<void> {
    const objectKey = S3FileStore.objectKey(key)
    await this.#call('delete', key, (abortSignal) =>
      this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: objectKey }), { abortSignal }),
    )
  }

  /** The keys under `prefix`, page by page (at most `listPages` pages of PAGE keys). */
  async *#pages(prefix: string): AsyncGenerator<string[]> {
    const objectPrefix = S3FileStore.objectPrefix(prefix)
    let token: string | undefined
    for (let page = 0; page < this.#limits.listPages; page++) {
      const out = await this.#call('list', prefix, (abortSignal) =>
        this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: objectPrefix,
            MaxKeys: PAGE,
            ContinuationToken: token,
          }),
          { abortSignal },
        ),
      )
      const keys = (out.Contents ?? []).map((o) => o.Key).filter((k): k is string => typeof k === 'string')
      if (keys.length > 0) yield keys
      const next = out.IsTruncated ? out.NextContinuationToken : undefined
      // a server that repeats its token would list forever
      if (next === undefined || next === token) return
      token = next
    }
    throw this.#failure('list', prefix, new Error(`more than ${this.#limits.listPages} pages of keys`))
  }

  async deletePrefix(prefix: string): Promise<void> {
    for await (const keys of this.#pages(prefix)) {
      for (let i = 0; i < keys.length; i += PAGE) {
        const batch = keys.slice(i, i + PAGE)
        const out = await this.#call('delete', prefix, (abortSignal) =>
          this.#client.send(
            new DeleteObjectsCommand({
              Bucket: this.#bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
            { abortSignal },
          ),
        )
        const failed = out.Errors?.[0]
        if (failed)
          throw this.#failure(
            'delete',
            failed.Key ?? prefix,
            new Error(`${failed.Code ?? 'error'}: ${failed.Message ?? ''}`),
          )
      }
    }
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = []
    for await (const keys of this.#pages(prefix)) out.push(...keys)
    return out.sort()
  }
}

/**
 * PocketBase's connection test (`POST /api/settings/test/s3`): uploads a small file under a new
 * `pb_settings_test_<random>/` prefix and removes that prefix, which checks writing, listing and
 * deleting. Throws the S3 or network error.
 */
export async function testS3Connection(config: S3Config, limits: S3Limits = S3_LIMITS): Promise<void> {
  const client = newS3Client(config, limits)
  const prefix = `pb_settings_test_${newRecordId().slice(0, 5)}`
  const deadline = () => ({ abortSignal: AbortSignal.timeout(limits.deadlineMs) })
  try {
    await client.send(
      new PutObjectCommand({ Bucket: config.bucket, Key: `${prefix}/test.txt`, Body: Buffer.from('test') }),
      deadline(),
    )
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: config.bucket, Prefix: `${prefix}/`, MaxKeys: PAGE }),
      deadline(),
    )
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key }))
    if (keys.length === 0) throw new Error('the uploaded test file was not listed')
    const out = await client.send(
      new DeleteObjectsCommand({ Bucket: config.bucket, Delete: { Objects: keys, Quiet: true } }),
      deadline(),
    )
    if (out.Errors?.[0]) throw new Error(`failed to delete a test file: ${out.Errors[0].Message ?? ''}`)
  } finally {
    client.destroy()
  }
}
