import { ClientResponseError } from 'pocketbase'
import { expect } from 'vitest'

/** An API error as the SDK received it: the HTTP status and PocketBase's `{message, data}`. */
export interface SdkFailure {
  status: number
  message: string
  data: Record<string, unknown>
}

/** The error body of a rejected SDK call; the HTTP status and `status` of the body must agree. */
export async function sdkFailure(p: Promise<unknown>): Promise<SdkFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof ClientResponseError)) throw new Error(`expected an API error, got ${String(err)}`)
  const body = err.response as SdkFailure
  expect(body.status).toBe(err.status)
  return { status: err.status, message: body.message, data: body.data }
}
