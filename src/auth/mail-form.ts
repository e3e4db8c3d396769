import { badRequest, fieldError, isJsonObject, type ValidationErrors } from '../lib/index.js'
import { FIELD_TYPES, type AuthCollection } from '../schema/index.js'

export const LOAD_ERROR = 'An error occurred while loading the submitted data.'
export const VALIDATION_ERROR = 'An error occurred while validating the submitted data.'

/** Longest email and password a mail-flow form reads (PocketBase's `Length(1, 255)`). */
export const MAX_FORM_EMAIL_LENGTH = 255
export const MAX_FORM_PASSWORD_LENGTH = 255

export const cannotBeBlank = () => fieldError('validation_required', 'Cannot be blank.')
export const lengthOutOfRange = (max: number) =>
  fieldError('validation_length_out_of_range', `The length must be between 1 and ${max}.`)

/**
 * The string values of `keys` in a form body, '' when absent or null. A body that is not an object,
 * or a value that is not a string, is PocketBase's bind failure (400, "loading").
 */
export function readForm<K extends string>(body: unknown, keys: readonly K[]): Record<K, string> {
  const input = body === undefined || body === null ? {} : body
  if (!isJsonObject(input)) throw badRequest(LOAD_ERROR)
  const out = {} as Record<K, string>
  for (const key of keys) {
    const v = input[key]
    if (v === undefined || v === null) out[key] = ''
    else if (typeof v === 'string') out[key] = v
    else throw badRequest(LOAD_ERROR)
  }
  return out
}

/**
 * Required, at most 255 characters and a valid address for the collection's email field (format
 * and its allowed domains); the first problem is added under `key`.
 */
export function checkEmail(c: AuthCollection, value: string, errors: ValidationErrors, key: string): void {
  if (value === '') errors.add([key], cannotBeBlank())
  else if (value.length > MAX_FORM_EMAIL_LENGTH) errors.add([key], lengthOutOfRange(MAX_FORM_EMAIL_LENGTH))
  else {
    const field = c.fields.find((f) => f.name === 'email')
    const type = FIELD_TYPES.get('email')
    const err =
      field && type?.validateValue({ ...field, required: true }, value, { collection: c, isNew: false })
    if (err) errors.add([key], err)
  }
}

/** Required and at most 255 characters. */
export function checkPassword(value: string, errors: ValidationErrors, key: string): void {
  if (value === '') errors.add([key], cannotBeBlank())
  else if (value.length > MAX_FORM_PASSWORD_LENGTH)
    errors.add([key], lengthOutOfRange(MAX_FORM_PASSWORD_LENGTH))
}
