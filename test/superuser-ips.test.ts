/**
 * `settings.superuserIPs` (§1.4, §8.2): with a non-empty list, superuser tokens and superuser
 * sign-ins from other addresses are refused with 403; other records are unaffected.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createStore,
  DB_KINDS,
  startGalley,
  SU_EMAIL,
  SU_PASSWORD,
  type RunningGalley,
  type TestStore,
} from './helpers/galley.js'

const FORBIDDEN = {
  status: 403,
  message: 'Superusers are not allowed to access the API from this IP address.',
  data: {},
}
const USER = { email: 'user@example.com', password: 'a user password 1' }

describe.each(DB_KINDS)('superuserIPs ($kind)', ({ kind, skip }) => {
  let store: TestStore
  let g: RunningGalley
  let suToken: string
  let userToken: string

  async function call(method: string, path: string, token?: string, body?: unknown, headers = {}) {
    const res = await fetch(`${g.url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: token } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    })
    const text = await res.text()
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined }
  }
  /** Settings changed in-process: a superuser token may not be allowed to change them back. */
  const setList = (
    superuserIPs: string[],
    trustedProxy = { headers: [] as string[], useLeftmostIP: false },
  ) => g.galley.settings.update({ superuserIPs, trustedProxy })

  beforeAll(async () => {
    if (skip) return
    store = await createStore(kind)
    g = await startGalley(store)
    const su = await g.asSuperuser()
    suToken = su.authStore.token
    await su.collection('users').create({ ...USER, passwordConfirm: USER.password })
    userToken = (await g.sdk().collection('users').authWithPassword(USER.email, USER.password)).token
  })
  afterEach(async () => {
    if (!skip) await setList([])
  })
  afterAll(async () => {
    await g?.close()
    await store?.cleanup()
  })

  const signIn = () =>
    call('POST', '/api/collections/_superusers/auth-with-password', undefined, {
      identity: SU_EMAIL,
      password: SU_PASSWORD,
    })

  it.skipIf(skip)('an empty list allows every address', async () => {
    expect((await call('GET', '/api/settings', suToken)).status).toBe(200)
    expect((await signIn()).status).toBe(200)
  })

  it.skipIf(skip)('another address: superuser token and sign-in are 403, users are unaffected', async () => {
    await setList(['10.9.9.9'])
    expect(await call('GET', '/api/settings', suToken)).toEqual({ status: 403, json: FORBIDDEN })
    expect(await call('GET', '/api/collections/users/records', suToken)).toEqual({
      status: 403,
      json: FORBIDDEN,
    })
    expect(await signIn()).toEqual({ status: 403, json: FORBIDDEN })
    // by collection id too
    const byId = await call('POST', '/api/collections/pbc_3142635823/auth-with-password', undefined, {
      identity: SU_EMAIL,
      password: SU_PASSWORD,
    })
    expect(byId).toEqual({ status: 403, json: FORBIDDEN })
    // users sign in and use their token as before; guests are guests
    expect(
      (
        await call('POST', '/api/collections/users/auth-with-password', undefined, {
          identity: USER.email,
          password: USER.password,
        })
      ).status,
    ).toBe(200)
    expect((await call('POST', '/api/collections/users/auth-refresh', userToken)).status).toBe(200)
    expect((await call('GET', '/api/health')).status).toBe(200)
  })

  it.skipIf(skip)('the listed address is allowed, in any spelling', async () => {
    for (const entry of ['127.0.0.1', '::ffff:127.0.0.1']) {
      await setList(['10.9.9.9', entry])
      expect((await call('GET', '/api/settings', suToken)).status).toBe(200)
      expect((await signIn()).status).toBe(200)
    }
  })

  it.skipIf(skip)('behind a trusted proxy the client address from its header counts', async () => {
    await setList(['10.1.1.1'], { headers: ['X-Forwarded-For'], useLeftmostIP: false })
    const from = (ip: string) => ({ 'x-forwarded-for': ip })
    expect((await call('GET', '/api/settings', suToken, undefined, from('10.1.1.1'))).status).toBe(200)
    expect((await call('GET', '/api/settings', suToken, undefined, from('10.1.1.2'))).status).toBe(403)
    // without the proxy configured the header is the client's and changes nothing
    await setList(['10.1.1.1'])
    expect((await call('GET', '/api/settings', suToken, undefined, from('10.1.1.1'))).status).toBe(403)
  })
})
