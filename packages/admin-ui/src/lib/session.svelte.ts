import { isTokenExpired, type AuthRecord } from 'pocketbase'
import { toServerError } from './errors'
import { pb, SUPERUSERS } from './pb'

/** Who is signed in; `ready` once a stored session has been refreshed (or dropped). */
export const session = $state<{ user: AuthRecord; ready: boolean; notice: string }>({
  user: null,
  ready: false,
  notice: '',
})

/** A token this close to its expiry is refreshed (checked every minute while the page is open). */
const REFRESH_BEFORE_S = 30 * 60
const CHECK_EVERY_MS = 60_000

pb.authStore.onChange(() => {
  session.user = pb.authStore.isSuperuser ? pb.authStore.record : null
})

function end(reason: string): void {
  pb.authStore.clear()
  session.notice = `Your session ended (${reason}) Please sign in again.`
}

// A token the server no longer accepts (password changed, superuser deleted) is treated as a guest's:
// a 401 or 403 is then checked with a refresh, and a failed refresh ends the session in words.
let checking: Promise<void> | undefined
pb.afterSend = (response, data: unknown) => {
  const denied = response.status === 401 || response.status === 403
  if (denied && pb.authStore.isValid && !/\/auth-(with-|refresh)/.test(response.url))
    checking ??= refresh().finally(() => (checking = undefined))
  return data
}

async function refresh(): Promise<void> {
  try {
    await pb.collection(SUPERUSERS).authRefresh()
  } catch (err) {
    if (pb.authStore.isValid) end(toServerError(err).message)
  }
}

/** Refreshes a stored token (a new expiry, the record read again); a dead one signs out. */
export async function restoreSession(): Promise<void> {
  if (pb.authStore.isValid && pb.authStore.isSuperuser) await refresh()
  else pb.authStore.clear()
  session.user = pb.authStore.isSuperuser ? pb.authStore.record : null
  session.ready = true
  setInterval(() => {
    if (pb.authStore.isValid && isTokenExpired(pb.authStore.token, REFRESH_BEFORE_S)) void refresh()
  }, CHECK_EVERY_MS)
}

export async function signIn(email: string, password: string): Promise<void> {
  await pb.collection(SUPERUSERS).authWithPassword(email, password)
  session.notice = ''
}

export function signOut(): void {
  session.notice = ''
  pb.authStore.clear()
}
