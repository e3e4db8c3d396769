export { recordToJSON, type RecordJSON, type RecordRow, type SerializeOptions } from './serialize.js'
