export { isSuperuser, SUPERUSERS, type Actor } from './actor.js'
export {
  AuthService,
  newTokenKey,
  type AuthDeps,
  type AuthOptions,
  type AuthResponse,
  type ClientInfo,
  type SignInMethod,
} from './auth-service.js'
export { hashPassword, verifyPassword, HASH_CONCURRENCY } from './password.js'
export { SuperuserService } from './superusers.js'
export { signToken, verifyToken, peekClaims, type TokenClaims, type TokenType } from './tokens.js'
