import PocketBase, { LocalAuthStore } from 'pocketbase'

/** The API is on the dashboard's own server: everything before `/_/` in the address. */
const base = location.origin + location.pathname.replace(/\/_\/.*$/, '').replace(/\/$/, '')

/** The one SDK client: the dashboard uses the public API only, as any other app would. */
export const pb = new PocketBase(base, new LocalAuthStore('galley_dashboard_auth'))
pb.autoCancellation(false)

export const SUPERUSERS = '_superusers'
