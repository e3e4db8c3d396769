import { decodeJwt, jwtVerify, SignJWT } from 'jose'

export type TokenType = 'auth' | 'file' | 'verification' | 'passwordReset' | 'emailChange' | 'install'

export interface TokenClaims {
  readonly id: string
  readonly collectionId: string
  readonly type: TokenType
  readonly [claim: string]: unknown
}

const encoder = new TextEncoder()
/** Only HS256 is ever accepted: `alg: none` and algorithm confusion are refused by construction. */
const ALGORITHMS = ['HS256']

/** Signs `claims` with the record's tokenKey + the collection's secret for that token type (§8.1). */
export async function signToken(claims: TokenClaims, key: string, durationSeconds: number): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + durationSeconds)
    .sign(encoder.encode(key))
}

/** The unverified claims, only to find which record and secret verify the token; undefined if malformed. */
export function peekClaims(token: string): TokenClaims | undefined {
  try {
    const c = decodeJwt(token)
    if (typeof c.id !== 'string' || typeof c.collectionId !== 'string' || typeof c.type !== 'string')
      return undefined
    return c as unknown as TokenClaims
  } catch {
    return undefined
  }
}

/** Verifies signature, `exp` (required) and `nbf`/`iat` when present. */
export async function verifyToken(
  token: string,
  key: string,
  type: TokenType,
): Promise<TokenClaims | undefined> {
  try {
    const { payload } = await jwtVerify(token, encoder.encode(key), {
      algorithms: ALGORITHMS,
      requiredClaims: ['exp'],
      clockTolerance: 0,
    })
    if (payload.type !== type) return undefined
    if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000) + 60) return undefined
    return payload as unknown as TokenClaims
  } catch {
    return undefined
  }
}
