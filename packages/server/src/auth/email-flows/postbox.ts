import type { CollectionDefinition, MailKind } from '../../collections/index.js'
import type { Mailer, MailMessage } from '../../mail/index.js'
import { type Placeholders, renderTemplate, templateFor } from './templates.js'

export interface PostboxSettings {
  /** {{APP_URL}}: the public URL of the server. */
  publicUrl: string
  /** {{APP_NAME}}. */
  appName: string
}

export interface PostboxLog {
  error(object: object, message: string): void
}

/**
 * A flow's mail to `to`, from the collection's template of that kind (or the default), with
 * the placeholders filled; throws when the collection's template option is malformed.
 *
 * @example composeMail({ appName, publicUrl }, users, 'otp', 'ada@example.com', { CODE: '123456' })
 */
export function composeMail(
  settings: PostboxSettings,
  collection: CollectionDefinition,
  kind: MailKind,
  to: string,
  values: Partial<Pick<Placeholders, 'LINK' | 'TOKEN' | 'CODE' | 'EMAIL'>>,
): MailMessage {
  const mail = renderTemplate(templateFor(collection, kind), {
    APP_NAME: settings.appName,
    APP_URL: settings.publicUrl,
    LINK: '',
    TOKEN: '',
    CODE: '',
    EMAIL: to,
    ...values,
  })
  return { to, ...mail }
}

/**
 * Composes the flows' mails and sends them off the request path: an answer never
 * waits for the mail server, so a known address is not slower to answer than an
 * unknown one, and a slow or failing server only shows in the log.
 */
export class Postbox {
  readonly #pending = new Set<Promise<void>>()

  constructor(
    private readonly mailer: Mailer,
    private readonly settings: PostboxSettings,
    private readonly log: PostboxLog,
  ) {}

  /** The finished mail; throws when the collection's template option is malformed. */
  compose(
    collection: CollectionDefinition,
    kind: MailKind,
    to: string,
    values: Partial<Pick<Placeholders, 'LINK' | 'TOKEN' | 'CODE' | 'EMAIL'>>,
  ): MailMessage {
    return composeMail(this.settings, collection, kind, to, values)
  }

  post(message: MailMessage, kind: MailKind): void {
    const sending = this.mailer.send(message).catch((error: unknown) => {
      // The message and its link stay out of the log; the cause is the mail server's answer.
      this.log.error({ err: error, mail: kind }, 'sending a mail failed')
    })
    this.#pending.add(sending)
    void sending.finally(() => this.#pending.delete(sending))
  }

  /** Waits for mails still on their way (at shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.#pending])
  }
}
