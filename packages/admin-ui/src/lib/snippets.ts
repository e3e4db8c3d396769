/**
 * The records table's current query as a curl command and as an SDK call, to copy. Neither ever
 * carries the dashboard's token: a placeholder stands where the Authorization header goes.
 */

export const TOKEN_PLACEHOLDER = '<SUPERUSER_TOKEN>'

export interface RecordsQuery {
  readonly page: number
  readonly perPage: number
  readonly sort: string
  readonly filter: string
  /** The relation fields whose records come along (`expand`), comma-separated; '' or absent for none. */
  readonly expand?: string
  readonly fields: string
}

/** The query string the SDK's getList sends, each value URL-encoded (empty ones left out). */
export function queryString(q: RecordsQuery): string {
  const pairs: [string, string][] = [
    ['page', String(q.page)],
    ['perPage', String(q.perPage)],
    ['sort', q.sort],
    ['filter', q.filter],
    ['expand', q.expand ?? ''],
    ['fields', q.fields],
  ]
  return pairs
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/'/g, '%27')}`)
    .join('&')
}

/** The records list URL of `collection` on `base` (the server's origin and path) with the query. */
export function recordsURL(base: string, collection: string, q: RecordsQuery): string {
  return `${base.replace(/\/$/, '')}/api/collections/${encodeURIComponent(collection)}/records?${queryString(q)}`
}

/** A shell-safe curl command (single quotes; the URL has no quote left once encoded). */
export function curlSnippet(base: string, collection: string, q: RecordsQuery): string {
  return `curl '${recordsURL(base, collection, q)}' \\\n  -H 'Authorization: ${TOKEN_PLACEHOLDER}'`
}

/** The same query through the JavaScript SDK. */
export function sdkSnippet(base: string, collection: string, q: RecordsQuery): string {
  const options: string[] = []
  if (q.sort) options.push(`sort: ${JSON.stringify(q.sort)}`)
  if (q.filter) options.push(`filter: ${JSON.stringify(q.filter)}`)
  if (q.expand) options.push(`expand: ${JSON.stringify(q.expand)}`)
  if (q.fields) options.push(`fields: ${JSON.stringify(q.fields)}`)
  return [
    `import PocketBase from 'pocketbase'`,
    ``,
    `const pb = new PocketBase(${JSON.stringify(base)})`,
    `pb.authStore.save(${JSON.stringify(TOKEN_PLACEHOLDER)})`,
    `const list = await pb.collection(${JSON.stringify(collection)}).getList(${q.page}, ${q.perPage}, {`,
    ...options.map((o) => `  ${o},`),
    `})`,
  ].join('\n')
}
