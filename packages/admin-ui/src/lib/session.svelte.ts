import type { AuthRecord } from 'pocketbase'
import { toServerError } from './errors'
import { pb, SUPERUSERS } from './pb'

/** Who is signed in; `ready` once a stored session has been refreshed (or dropped). */
export const session = $state<{ user: AuthRecord; ready: boolean; notice: string }>({
  user: null,
  ready: false,
  notice: '',
})

pb.authStore.onChange(() => {
  session.user = pb.authStore.isSuperuser ? pb.authStore.record : null
})

/** Refreshes a stored token (a new expiry, the record read again); a dead one signs out. */
export async function restoreSession(): Promise<void> {
  try {
    if (pb.authStore.isValid && pb.authStore.isSuperuser) await pb.collection(SUPERUSERS).authRefresh()
    else pb.authStore.clear()
  } catch (err) {
    const e = toServerError(err)
    pb.authStore.clear()
    session.notice = `Your session ended (${e.message}) Please sign in again.`
  } finally {
    session.user = pb.authStore.isSuperuser ? pb.authStore.record : null
    session.ready = true
  }
}

export async function signIn(email: string, password: string): Promise<void> {
  // refreshes the token by itself when it is about to expire (the SDK's auto refresh)
  await pb.collection(SUPERUSERS).authWithPassword(email, password, { autoRefreshThreshold: 30 * 60 })
  session.notice = ''
}

export function signOut(): void {
  pb.authStore.clear()
}
