export { MailService, MailNotConfiguredError, type MailMessage, type MailKind } from './mail-service.js'
export { renderTemplate, type MailTemplate, type TemplateValues, type RenderedMail } from './templates.js'
