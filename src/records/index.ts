export { recordToJSON, type RecordJSON, type RecordRow, type SerializeOptions } from './serialize.js'
export {
  RecordService,
  type CommittedListener,
  type CommittingListener,
  type InlineCommitting,
  COMMITTED_COLUMN,
  type RecordChange,
  type RecordOptions,
} from './record-service.js'
export { newFileChanges, type FileChanges, type PasswordHasher } from './record-write.js'
export { isSuperuserRequest } from './request.js'
export { MAX_CASCADE_DEPTH } from './record-delete.js'
export { MAX_EXPAND_DEPTH, MAX_EXPAND_LENGTH, MAX_EXPAND_RELATIONS } from './expand-plan.js'
export { MAX_BACK_RELATION_EXPAND, MAX_EXPAND_IDS_PER_QUERY, MAX_EXPAND_RECORDS } from './expand.js'
export {
  detectMimeType,
  fileKey,
  isSafeInline,
  normalizeFileName,
  SNIFF_BYTES,
  STORED_NAME,
  thumbKey,
  thumbsPrefix,
  Upload,
  type FileStore,
  type StoredFileInfo,
} from './uploads.js'
export { fileMaxSize } from './record-write.js'
export { MAX_CONDITIONS_PER_QUERY, type ImageReader } from './image-read.js'
