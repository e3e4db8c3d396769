export { isSuperuser, SUPERUSERS, type Actor } from './actor.js'
export {
  AuthService,
  bearerToken,
  newTokenKey,
  type AuthDeps,
  type AuthOptions,
  type AuthResponse,
  type ClientInfo,
  type SignInMethod,
} from './auth-service.js'
export { impersonate, impersonateDuration, MAX_IMPERSONATE_DURATION } from './impersonate.js'
export { authOriginFingerprint, MAX_AUTH_ORIGINS } from './auth-alert.js'
export { MailFlows } from './mail-flows.js'
export {
  OAuth2Flow,
  MAX_CODE_VERIFIER_LENGTH,
  MAX_OAUTH2_CODE_LENGTH,
  MAX_REDIRECT_URL_LENGTH,
  type AuthMethods,
} from './oauth2/oauth2-flow.js'
export { MAX_PROVIDER_RESPONSE_BYTES, PROVIDER_TIMEOUT_MS } from './oauth2/provider-http.js'
export { hashPassword, verifyPassword, HASH_CONCURRENCY } from './password.js'
export { otpAttemptsMigration } from './otp-attempts.js'
export { SuperuserService } from './superusers.js'
export {
  SuperuserInstaller,
  INSTALL_TOKEN_DURATION,
  MAX_INSTALL_FIELD_LENGTH,
  MAX_INSTALL_TOKEN_LENGTH,
} from './superuser-install.js'
export { signToken, verifyToken, peekClaims, type TokenClaims, type TokenType } from './tokens.js'
