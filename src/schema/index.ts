export {
  COLLECTION_TYPES,
  RULE_KEYS,
  TOKEN_KINDS,
  findField,
  isAuthCollection,
  OAUTH2_PROVIDER_NAMES,
  type AuthCollection,
  type AuthOptions,
  type Collection,
  type CollectionType,
  type Field,
  type OAuth2Provider,
  type RuleKey,
  type TokenConfig,
  type TokenKind,
} from './collection.js'
export {
  CHECKABLE_RULE_KEYS,
  CollectionService,
  COLLECTIONS_CHANNEL,
  type CheckableRuleKey,
  type RuleCheck,
  MAX_VIEW_SOURCE_DEPTH,
  type ViewFieldSource,
} from './collection-service.js'
export { collectionToJSON } from './serialize.js'
export { columnKind } from './table-sync.js'
export { FIELD_TYPES, MAX_PASSWORD_LENGTH } from './fields/index.js'
export type { FieldType } from './field-type.js'
export { defaultCollectionId, defaultFieldId, makeField, autodateFields } from './defaults.js'
export {
  systemCollectionsMigration,
  SUPERUSERS_COLLECTION_ID,
  SUPERUSERS_COLLECTION_NAME,
  USERS_COLLECTION_ID,
} from './system-collections.js'
export type { ModifierOp, ValueContext } from './field-type.js'
export { parseBodyKey } from './body-key.js'
export { DEFAULT_ID_PATTERN } from './fields/text.js'
