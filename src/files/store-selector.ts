import type { Logger } from '../lib/index.js'
import type { FileStore } from '../records/index.js'
import type { S3Config } from '../settings/index.js'
import type { LocalFileStore } from './local-store.js'
import { S3_LIMITS, S3FileStore, type S3Limits } from './s3-store.js'

/** What selects the S3 store: every field of the config (a changed secret is a new client too). */
const configKey = (c: S3Config) =>
  JSON.stringify([c.bucket, c.region, c.endpoint, c.accessKey, c.secret, c.forcePathStyle])

/**
 * The file store in force, as PocketBase chooses it: S3 when `settings.s3.enabled`, else the local
 * disk. It is read again for each operation that asks, so a settings change (on this instance or,
 * through the settings reload, another one) applies to the next request; a caller that took a
 * store keeps it, so a download in flight finishes on the store it started on. A replaced S3
 * store closes its connections once its last call or download ends.
 */
export class FileStoreSelector {
  readonly #local: LocalFileStore
  readonly #settings: () => Readonly<S3Config>
  readonly #tempDir: string
  readonly #limits: S3Limits
  readonly #logger: Logger | undefined
  #s3: { key: string; config: Readonly<S3Config>; store: S3FileStore } | undefined

  constructor(opts: {
    local: LocalFileStore
    /** The `s3` settings in force. */
    settings: () => Readonly<S3Config>
    /** Where the S3 store spools a stream of unknown length. */
    tempDir: string
    limits?: S3Limits
    logger?: Logger
  }) {
    this.#local = opts.local
    this.#settings = opts.settings
    this.#tempDir = opts.tempDir
    this.#limits = opts.limits ?? S3_LIMITS
    this.#logger = opts.logger
  }

  /** The store for an operation starting now. */
  current(): FileStore {
    const config = this.#settings()
    if (!config.enabled) {
      this.#retireS3()
      return this.#local
    }
    if (this.#s3?.config === config) return this.#s3.store
    const key = configKey(config)
    if (this.#s3?.key !== key) {
      this.#retireS3()
      const store = new S3FileStore(config, {
        tempDir: this.#tempDir,
        limits: this.#limits,
        ...(this.#logger ? { logger: this.#logger } : {}),
      })
      this.#s3 = { key, config, store }
      this.#logger?.info({ bucket: config.bucket, endpoint: config.endpoint }, 'file storage: S3')
    } else this.#s3 = { ...this.#s3, config }
    return this.#s3.store
  }

  #retireS3(): void {
    if (!this.#s3) return
    this.#s3.store.retire()
    this.#s3 = undefined
    this.#logger?.info('file storage: S3 store replaced')
  }

  /** Closes the S3 connections (at shutdown, after the requests ended). */
  close(): void {
    this.#retireS3()
  }
}
