/** Limits of the filter language (PocketBase `tools/search/provider.go`). Each is tested at N and N+1. */

/** Characters in one filter. */
export const MAX_FILTER_LENGTH = 3500
/** Comparisons (`a = b`) in one filter. */
export const MAX_FILTER_EXPRESSIONS = 200
/** Nesting of parentheses; bounds the parser's recursion. */
export const MAX_FILTER_DEPTH = 64
/** Nesting of function calls: `f(g(x))` is 2. */
export const MAX_FUNCTION_DEPTH = 2
/** Arguments of one function call. */
export const MAX_FUNCTION_ARGS = 10
/** Format specifiers (`%Y`, …) in one `strftime()` format; each becomes SQL on PostgreSQL. */
export const MAX_STRFTIME_SPECIFIERS = 32
/**
 * Characters of a text `strftime()` reads as a time value; a longer text is no time value (the
 * result is ""), on both databases. No date needs more; PostgreSQL reads numbers this long safely.
 */
export const MAX_STRFTIME_TIME_TEXT = 400
/** Items in one `sort`. */
export const MAX_SORT_FIELDS = 8
/** Characters in one `sort` item. */
export const MAX_SORT_FIELD_LENGTH = 255
/**
 * LEFT JOINs in one subquery of a multi-valued comparison. SQLite allows 64 tables in one FROM;
 * relation paths of one filter that share rows are joined together, so a filter could pass it.
 */
export const MAX_JOINS_PER_QUERY = 48
