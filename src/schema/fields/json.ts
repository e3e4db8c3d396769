import { fieldError } from '../../lib/index.js'
import type { FieldType } from '../field-type.js'
import { isPlainObject } from './cast.js'
import { requiredError } from './values.js'

/** 0 means this many bytes. */
export const DEFAULT_JSON_MAX_SIZE = 1024 * 1024

const JSON_START = /^[-0-9"[{]/

/**
 * A plain string as PocketBase's JSON field reads it (multipart bodies and strings in JSON bodies):
 * "true", "false", "null", and valid JSON starting with a digit, '-', '"', '[' or '{' are parsed;
 * any other string, '' included, is the JSON string itself.
 */
function parseJSONString(s: string): unknown {
  if (s === 'null') return null
  if (s === 'true') return true
  if (s === 'false') return false
  if (JSON_START.test(s)) {
    try {
      return JSON.parse(s) as unknown
    } catch {
      // not JSON: kept as a string
    }
  }
  return s
}

/** Whether `v` is a JSON value (finite numbers, plain objects and arrays of JSON values). */
function isJSONValue(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(v)
    case 'object':
      if (v === null) return true
      if (Array.isArray(v)) return v.every(isJSONValue)
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return false
      return Object.values(v).every(isJSONValue)
    default:
      return false
  }
}

/** Bytes of the value as Go's encoding/json writes it (compact, with `<`, `>`, `&`, U+2028/9 escaped). */
export function goJSONSize(v: unknown): number {
  const s = JSON.stringify(v)
  let extra = 0
  for (const ch of s) {
    if (ch === '<' || ch === '>' || ch === '&') extra += 5
    else if (ch === '\u2028' || ch === '\u2029') extra += 3
  }
  return Buffer.byteLength(s, 'utf8') + extra
}

function isBlankJSON(v: unknown): boolean {
  if (v === null || v === '') return true
  if (Array.isArray(v)) return v.length === 0
  return isPlainObject(v) && Object.keys(v).length === 0
}

export const jsonField: FieldType = {
  type: 'json',
  options: {
    maxSize: { kind: 'int', default: 0 },
    required: { kind: 'bool', default: false },
  },
  hasHelp: true,
  column: () => 'json',
  zeroValue: () => null,
  prepareValue(_f, raw) {
    if (raw === undefined) return null
    return typeof raw === 'string' ? parseJSONString(raw) : raw
  },
  validateValue(f, value) {
    let valid: boolean
    try {
      valid = isJSONValue(value)
    } catch {
      valid = false // nested beyond the stack
    }
    if (!valid) return fieldError('validation_invalid_json', 'Must be a valid json value.')
    const maxSize = (f.maxSize as number) || DEFAULT_JSON_MAX_SIZE
    if (goJSONSize(value) > maxSize)
      return fieldError('validation_json_size_limit', `The maximum allowed JSON size is ${maxSize} bytes.`, {
        maxSize,
      })
    // Required rejects null, "", [] and {}.
    return f.required && isBlankJSON(value) ? requiredError() : undefined
  },
}
