import { badRequest, fieldError, randomString, ValidationErrors } from '../lib/index.js'
import { MailNotConfiguredError, type MailMessage, type MailTemplate } from '../mail/index.js'
import { isAuthCollection, type AuthCollection } from '../schema/index.js'
import { SUPERUSERS } from './actor.js'
import type { AuthDeps } from './auth-service.js'
import { checkEmail, readForm } from './mail-form.js'
import { signMailToken, type MailTokenType } from './mail-tokens.js'

/** The templates `POST /api/settings/test/email` can send (§13.2). */
export const TEST_EMAIL_TEMPLATES = [
  'verification',
  'password-reset',
  'email-change',
  'otp',
  'login-alert',
] as const
type TestTemplate = (typeof TEST_EMAIL_TEMPLATES)[number]

const TEST_FAILED = 'Failed to send the test email.'
/** How much of a transport error the superuser is shown. */
const MAX_ERROR_TEXT = 300

const TOKEN_TYPES: Partial<Record<TestTemplate, MailTokenType>> = {
  verification: 'verification',
  'password-reset': 'passwordReset',
  'email-change': 'emailChange',
}

function templateOf(c: AuthCollection, name: TestTemplate): MailTemplate {
  switch (name) {
    case 'verification':
      return c.verificationTemplate
    case 'password-reset':
      return c.resetPasswordTemplate
    case 'email-change':
      return c.confirmEmailChangeTemplate
    case 'otp':
      return c.otp.emailTemplate
    case 'login-alert':
      return c.authAlert.emailTemplate
  }
}

const isTestTemplate = (s: string): s is TestTemplate =>
  (TEST_EMAIL_TEMPLATES as readonly string[]).includes(s)

/**
 * Sends one of `collection`'s templates to `email` with placeholder values, now, and reports any
 * failure: it is the superuser's check of the SMTP settings (unlike the auth flows, which never
 * tell). The link's token is a real token of a record that does not exist, signed with a random
 * key, so it looks like the real thing and opens nothing.
 */
export async function sendTestEmail(deps: AuthDeps, body: unknown): Promise<void> {
  const form = readForm(body, ['email', 'template', 'collection'])
  const errors = new ValidationErrors()
  const found = deps.collections.find(form.collection === '' ? SUPERUSERS : form.collection)
  const c = found && isAuthCollection(found) ? found : undefined
  if (!c)
    errors.add(
      ['collection'],
      fieldError('validation_invalid_collection', 'Missing or invalid auth collection.'),
    )
  if (!isTestTemplate(form.template))
    errors.add(['template'], fieldError('validation_in_invalid', 'Must be a valid value.'))
  if (c) checkEmail(c, form.email, errors, 'email')
  const template = form.template
  if (!c || !isTestTemplate(template) || !errors.empty) throw badRequest(TEST_FAILED, errors.data)

  const record = { collectionId: c.id, collectionName: c.name, id: 'test', email: form.email }
  const type = TOKEN_TYPES[template]
  const token = type
    ? await signMailToken(
        c,
        { ...record, tokenKey: randomString(50) },
        type,
        type === 'emailChange' ? { newEmail: form.email } : {},
      )
    : undefined
  const message: MailMessage = deps.mail.render(templateOf(c, template), form.email, {
    record,
    ...(token ? { token } : {}),
    otp: '123456',
    otpId: 'OTP_ID',
    alertInfo: 'Test alert: a sign-in from 127.0.0.1 (test user agent).',
  })
  try {
    await deps.mail.send(message)
  } catch (err) {
    if (err instanceof MailNotConfiguredError)
      throw badRequest(`${TEST_FAILED} SMTP is not enabled in the settings.`, undefined, err)
    const text = (err instanceof Error ? err.message : String(err))
      .replace(/\s+/g, ' ')
      .slice(0, MAX_ERROR_TEXT)
    throw badRequest(`${TEST_FAILED} Raw error: ${text}`, undefined, err)
  }
  deps.logger.info({ mail: 'test', template }, 'test email sent')
}
