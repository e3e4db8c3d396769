import type { ColumnKind } from '../dialect.js'

export function quoteDouble(name: string): string {
  if (name.includes('\0')) throw new Error('invalid identifier')
  return `"${name.replace(/"/g, '""')}"`
}

/** Literals for DDL only (index WHERE clauses), where bound parameters are not allowed. */
export function renderLiteral(value: string | number | boolean | null): string {
  if (value === null) return 'NULL'
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('invalid numeric literal')
    return String(value)
  }
  if (value.includes('\0')) throw new Error('invalid string literal')
  return `'${value.replace(/'/g, "''")}'`
}

export function decodeJson(kind: ColumnKind, value: unknown): unknown {
  let v = value
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v)
    } catch {
      // a non-JSON text left in a JSON column (e.g. written by hand) is served as the string it is
    }
  }
  if (kind === 'jsonArray') {
    if (v === null || v === undefined || v === '') return []
    return Array.isArray(v) ? v : [v]
  }
  if (kind === 'geoPoint') {
    const o = (v ?? {}) as { lon?: unknown; lat?: unknown }
    return { lon: Number(o.lon ?? 0) || 0, lat: Number(o.lat ?? 0) || 0 }
  }
  return v === undefined ? null : v
}
