import { pb } from './pb'

/**
 * A token for the record from `POST /api/collections/{c}/impersonate/{id}` (non-refreshable,
 * `duration` seconds, 0 = the collection's auth token duration). The SDK answers with a new client
 * of its own, so the dashboard's session is never replaced.
 */
export async function impersonationToken(collection: string, id: string, duration: number): Promise<string> {
  const client = await pb.collection(collection).impersonate(id, duration)
  return client.authStore.token
}

/** Copies `text`; without the clipboard API (an http address other than localhost) it copies the selection of `field`. */
export async function copyText(text: string, field: HTMLTextAreaElement | HTMLInputElement): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text)
    return
  }
  field.select()
  if (!document.execCommand('copy'))
    throw new Error('The browser did not allow copying: the token is selected, copy it with the keyboard.')
}

/** A duration input's value as seconds: empty is 0 (the default); anything else is sent as typed. */
export const durationValue = (v: unknown): number =>
  v === null || v === undefined || v === '' ? 0 : Number(v)
