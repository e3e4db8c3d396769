import { get } from 'node:http'
import type PocketBase from 'pocketbase'
import { expect } from 'vitest'

/** The OAuth2 client the test providers know Galley as. */
export const CLIENT_ID = 'galley-client'
export const CLIENT_SECRET = 'provider-secret-never-returned'
/** The client's redirect URL: never opened, the provider's redirect is read from its Location header. */
export const REDIRECT = 'http://127.0.0.1:1/oauth2-callback'

/**
 * The authorization step a browser would do: `auth-methods`, then the provider's redirect with a
 * code. Returns the code, the PKCE verifier to send with it, and the authorization URL used.
 */
export async function authorizeCode(pb: PocketBase, provider: string) {
  const methods = await pb.collection('users').listAuthMethods()
  const p = methods.oauth2.providers.find((x) => x.name === provider)!
  // A fresh connection: the mock provider closes sockets after some of its errors, and a pooled
  // socket shared with Galley's own provider calls (same process) could be one of them.
  const locationHeader = await new Promise<string>((resolve, reject) => {
    get(p.authURL + encodeURIComponent(REDIRECT), { agent: false }, (res) => {
      res.resume()
      resolve(res.headers.location ?? '')
    }).on('error', reject)
  })
  const location = new URL(locationHeader)
  expect(location.searchParams.get('state')).toBe(p.state)
  return { code: location.searchParams.get('code')!, codeVerifier: p.codeVerifier, authURL: p.authURL }
}

/** The status, message and field errors a failed SDK call had (status 200: it did not fail). */
export const failure = (p: Promise<unknown>) =>
  p.then(
    () => ({ status: 200, message: '' }),
    (e: { status: number; response: { message: string; data: Record<string, { code: string }> } }) => ({
      status: e.status,
      message: e.response.message,
      data: e.response.data,
    }),
  )

/** The `provider:providerId` links of a record, read by a superuser client. */
export const providersOf = async (su: PocketBase, recordId: string) =>
  (
    await su
      .collection('_externalAuths')
      .getFullList({ filter: su.filter('recordRef = {:id}', { id: recordId }) })
  ).map((x) => `${x.provider}:${x.providerId}`)
