/**
 * Errors of the filter pipeline. They carry the offset in the source text where the problem is; the
 * caller (records, collections API) maps them to a 400 `GalleyError`.
 */
export class FilterError extends Error {
  /** Offset (UTF-16 code units) in the filter or sort text. */
  readonly position: number
  /** The message without the position suffix. */
  readonly reason: string

  constructor(reason: string, position: number) {
    super(`${reason} at ${position}`)
    this.name = 'FilterError'
    this.reason = reason
    this.position = position
  }
}

/** The text is not a valid filter or sort expression, or exceeds a limit. */
export class FilterSyntaxError extends FilterError {
  constructor(reason: string, position: number) {
    super(reason, position)
    this.name = 'FilterSyntaxError'
  }
}

/** The expression is well formed but names an unknown field, modifier or function. */
export class FilterResolveError extends FilterError {
  constructor(reason: string, position: number) {
    super(reason, position)
    this.name = 'FilterResolveError'
  }
}
