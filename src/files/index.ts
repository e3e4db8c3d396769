export { LocalFileStore } from './local-store.js'
export { describeS3Error, S3_LIMITS, S3FileStore, testS3Connection, type S3Limits } from './s3-store.js'
export { FileStoreSelector } from './store-selector.js'
export { FileSweeper, sweepOrphanFiles, SWEEP_GRACE_MS, type SweepResult } from './sweep.js'
export {
  DEFAULT_THUMB,
  DEFAULT_THUMB_LIMITS,
  parseThumbSize,
  thumbAllowed,
  thumbDimensions,
  ThumbGenerator,
  type ThumbLimits,
  type ThumbSize,
} from './thumbs.js'
