export { SettingsService, SETTINGS_CHANNEL } from './settings-service.js'
export {
  defaultSettings,
  type AttemptLimit,
  type BruteForceSettings,
  type Settings,
  type S3Config,
  type RateLimitRule,
} from './settings.js'
