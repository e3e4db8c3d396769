/**
 * Outbound HTTP to OAuth2 providers. A provider is another party: every call has a deadline and a
 * response size cap, and whatever comes back is parsed as untyped JSON for the caller to check.
 */

/** Longest a whole exchange with a provider may take (PocketBase: 30 s). */
export const PROVIDER_TIMEOUT_MS = 30_000
/** Largest provider response read (token, user info, JWKS, discovery); beyond it the call fails. */
export const MAX_PROVIDER_RESPONSE_BYTES = 1024 * 1024

export class ProviderHttpError extends Error {
  override readonly name = 'ProviderHttpError'
  constructor(
    message: string,
    readonly status?: number,
    /** The parsed error body of a 4xx, when it was JSON (the OAuth2 `error` object). */
    readonly body?: unknown,
  ) {
    super(message)
  }
}

export interface ProviderRequest {
  readonly method?: 'GET' | 'POST'
  readonly headers?: Record<string, string>
  readonly body?: URLSearchParams
  /** When the whole call (connect, headers, body) must be done. */
  readonly deadline: number
  readonly maxBytes?: number
}

/** The body of `res`, at most `maxBytes` bytes; more is an error and the rest is never read. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel()
    throw new ProviderHttpError(`response larger than ${maxBytes} bytes`, res.status)
  }
  if (!res.body) return ''
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw new ProviderHttpError(`response larger than ${maxBytes} bytes`, res.status)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * One JSON request to a provider: only http(s) URLs, no redirects followed (a provider endpoint
 * that redirects is misconfigured, and a redirect could lead anywhere), bounded in time and size.
 * Resolves the parsed JSON of a 2xx; rejects with `ProviderHttpError` otherwise.
 */
export async function providerJSON(url: string, req: ProviderRequest): Promise<unknown> {
  let target: URL
  try {
    target = new URL(url)
  } catch {
    throw new ProviderHttpError('invalid provider URL')
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:')
    throw new ProviderHttpError('provider URL must be http(s)')
  const remaining = req.deadline - Date.now()
  if (remaining <= 0) throw new ProviderHttpError('provider timeout')
  const maxBytes = req.maxBytes ?? MAX_PROVIDER_RESPONSE_BYTES
  let res: Response
  try {
    res = await fetch(target, {
      method: req.method ?? 'GET',
      headers: { accept: 'application/json', 'user-agent': 'galley', ...req.headers },
      body: req.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(remaining),
    })
  } catch (err) {
    throw new ProviderHttpError(`provider request failed: ${(err as Error).message}`)
  }
  let text: string
  try {
    text = await readCapped(res, maxBytes)
  } catch (err) {
    if (err instanceof ProviderHttpError) throw err
    throw new ProviderHttpError(`provider response failed: ${(err as Error).message}`, res.status)
  }
  let parsed: unknown
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    throw new ProviderHttpError('provider response is not JSON', res.status)
  }
  if (res.status < 200 || res.status > 299)
    throw new ProviderHttpError(`provider answered ${res.status}`, res.status, parsed)
  return parsed
}
