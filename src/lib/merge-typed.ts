import { fieldError, type ValidationErrors } from './errors.js'

export type Json = Record<string, unknown>
export const isJsonObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** Decoders for keys whose values need more than a type check (e.g. arrays of objects). */
export type CustomDecoders = Readonly<
  Record<string, (value: unknown, current: unknown, path: string[]) => unknown>
>

/**
 * Deep-merges `input` into `target` for the keys `template` has, the way Go unmarshals JSON onto an
 * existing struct: objects merge key by key, arrays and scalars replace, unknown keys are ignored.
 * Each value must have the JSON type of the template's value (`null` in the template = nullable
 * string); mismatches are reported under their path and leave the target unchanged.
 */
export function mergeTyped(
  target: Json,
  input: Json,
  template: Json,
  errors: ValidationErrors,
  path: string[] = [],
  custom: CustomDecoders = {},
): void {
  const invalid = (at: string[]) => errors.add(at, fieldError('validation_invalid_value', 'Invalid value.'))
  for (const [key, tmpl] of Object.entries(template)) {
    if (!(key in input)) continue
    const v = input[key]
    const at = [...path, key]
    const decode = custom[key]
    if (decode) {
      const decoded = decode(v, target[key], at)
      if (decoded !== undefined) target[key] = decoded
    } else if (isJsonObject(tmpl)) {
      if (!isJsonObject(v)) invalid(at)
      else {
        if (!isJsonObject(target[key])) target[key] = structuredClone(tmpl)
        mergeTyped(target[key] as Json, v, tmpl, errors, at, custom)
      }
    } else if (Array.isArray(tmpl)) {
      if (Array.isArray(v) && v.length <= 10_000 && v.every((x) => typeof x === 'string'))
        target[key] = [...v]
      else invalid(at)
    } else if (tmpl === null) {
      if (v === null || typeof v === 'string') target[key] = v
      else invalid(at)
    } else if (typeof v === typeof tmpl && (typeof v !== 'number' || Number.isFinite(v))) {
      target[key] = v
    } else invalid(at)
  }
}
