/** Named limits. Each is tested at limit and limit+1. */

/** Default request body limit (PocketBase: 32 MiB). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024
/**
 * Deepest nesting of arrays/objects in a JSON body. Go's decoder stops at 10 000; V8's
 * JSON.stringify and structuredClone overflow the stack near 2 000, so deeper values would be 500s.
 */
export const MAX_JSON_DEPTH = 1000

/** Collection list pagination. */
export const DEFAULT_PER_PAGE = 30
export const MAX_PER_PAGE = 1000

/**
 * Collection, field and index names are SQL identifiers: `^\w+$` (ASCII, so characters = bytes) and at
 * most PostgreSQL's 63 bytes, on SQLite too, so a schema always moves to PostgreSQL unchanged
 * (PostgreSQL would silently truncate longer names, and two of them could collide). PocketBase allows
 * 255 and 100.
 */
export const MAX_IDENTIFIER_LENGTH = 63
export const MAX_COLLECTION_NAME_LENGTH = MAX_IDENTIFIER_LENGTH
export const MAX_FIELD_NAME_LENGTH = MAX_IDENTIFIER_LENGTH
/** Custom collection ids: 1..100 `\w` characters. */
export const MAX_COLLECTION_ID_LENGTH = 100
/** Fields per collection. */
export const MAX_FIELDS = 1000
/** Indexes per collection and the length of one index statement. */
export const MAX_INDEXES = 100
export const MAX_INDEX_LENGTH = 3000
/** Field `help` text. */
export const MAX_HELP_LENGTH = 300
/** Rules are filters: the filter length limit applies. */
export const MAX_RULE_LENGTH = 3500
/** Largest integer accepted for size/limit options (2^53-1). */
export const MAX_SAFE_OPTION = Number.MAX_SAFE_INTEGER
/** Collections imported in one request. */
export const MAX_IMPORT_COLLECTIONS = 1000
