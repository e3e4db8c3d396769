export {
  MailService,
  MailNotConfiguredError,
  MAX_PENDING_MAILS,
  type MailMessage,
  type MailKind,
} from './mail-service.js'
export { renderTemplate, type MailTemplate, type TemplateValues, type RenderedMail } from './templates.js'
