import type { CollectionDefinition, MailKind, MailTemplate } from '../../collections/index.js'

/** Values a template may use as `{{NAME}}`. */
export interface Placeholders {
  APP_NAME: string
  APP_URL: string
  LINK: string
  TOKEN: string
  CODE: string
  EMAIL: string
}

const htmlPage = (body: string) =>
  `<!doctype html><html><body style="font-family: system-ui, sans-serif; line-height: 1.5">${body}<p>{{APP_NAME}}</p></body></html>`

export const defaultTemplates: Record<MailKind, MailTemplate> = {
  verification: {
    subject: 'Verify your email address for {{APP_NAME}}',
    text:
      'Hello,\n\nopen this link to confirm that {{EMAIL}} is your address:\n\n{{LINK}}\n\n' +
      'The link works once and expires in 72 hours. If you did not sign up for {{APP_NAME}}, ignore this mail.\n\n{{APP_NAME}}\n',
    html: htmlPage(
      '<p>Hello,</p><p>confirm that {{EMAIL}} is your address:</p>' +
        '<p><a href="{{LINK}}">Verify my email address</a></p>' +
        '<p>The link works once and expires in 72 hours. If you did not sign up for {{APP_NAME}}, ignore this mail.</p>',
    ),
  },
  passwordReset: {
    subject: 'Reset your {{APP_NAME}} password',
    text:
      'Hello,\n\nopen this link to choose a new password for {{EMAIL}}:\n\n{{LINK}}\n\n' +
      'The link works once and expires in one hour. If you did not ask for it, ignore this mail: your password stays as it is.\n\n{{APP_NAME}}\n',
    html: htmlPage(
      '<p>Hello,</p><p>choose a new password for {{EMAIL}}:</p>' +
        '<p><a href="{{LINK}}">Reset my password</a></p>' +
        '<p>The link works once and expires in one hour. If you did not ask for it, ignore this mail: your password stays as it is.</p>',
    ),
  },
  emailChange: {
    subject: 'Confirm your new email address for {{APP_NAME}}',
    text:
      'Hello,\n\nopen this link to make {{EMAIL}} the address of your {{APP_NAME}} account:\n\n{{LINK}}\n\n' +
      'You will be asked for your password. The link works once and expires in one hour. ' +
      'If you did not ask for this change, ignore this mail.\n\n{{APP_NAME}}\n',
    html: htmlPage(
      '<p>Hello,</p><p>make {{EMAIL}} the address of your {{APP_NAME}} account:</p>' +
        '<p><a href="{{LINK}}">Confirm my new email address</a></p>' +
        '<p>You will be asked for your password. The link works once and expires in one hour. ' +
        'If you did not ask for this change, ignore this mail.</p>',
    ),
  },
  otp: {
    subject: 'Your {{APP_NAME}} sign-in code: {{CODE}}',
    text:
      'Hello,\n\nyour code to sign in to {{APP_NAME}} is\n\n{{CODE}}\n\n' +
      'It works once and expires in 10 minutes. If you did not try to sign in, ignore this mail.\n\n{{APP_NAME}}\n',
    html: htmlPage(
      '<p>Hello,</p><p>your code to sign in to {{APP_NAME}} is</p>' +
        '<p style="font-size: 1.6em; letter-spacing: .2em"><strong>{{CODE}}</strong></p>' +
        '<p>It works once and expires in 10 minutes. If you did not try to sign in, ignore this mail.</p>',
    ),
  },
}

const PLACEHOLDER = /\{\{\s*(APP_NAME|APP_URL|LINK|TOKEN|CODE|EMAIL)\s*\}\}/g

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => htmlEscapes[char]!)
}

/**
 * Fills the placeholders in one pass, so a value that itself looks like `{{LINK}}`
 * (an email address can) is never expanded again.
 */
function fill(template: string, values: Placeholders, encode: (value: string) => string): string {
  return template.replace(PLACEHOLDER, (_match, name: keyof Placeholders) => encode(values[name]))
}

/** The template of a kind: the collection's `options.mailTemplates.<kind>` over the default, part by part. */
export function templateFor(collection: CollectionDefinition, kind: MailKind): MailTemplate {
  const custom = collection.options.mailTemplates?.[kind]
  return custom ? { ...defaultTemplates[kind], ...custom } : defaultTemplates[kind]
}

/** The finished mail: values HTML-escaped in the HTML part, and a subject that stays one line. */
export function renderTemplate(template: MailTemplate, values: Placeholders): MailTemplate {
  return {
    subject: fill(template.subject, values, (value) => value)
      .replace(/[\r\n]+/g, ' ')
      .trim(),
    text: fill(template.text, values, (value) => value),
    html: fill(template.html, values, escapeHtml),
  }
}
