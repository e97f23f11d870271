import type { AddressInfo } from 'node:net'
import { SMTPServer, type SMTPServerOptions } from 'smtp-server'

/** A mail as the SMTP peer received it, with its text and HTML parts decoded. */
export interface ReceivedMail {
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  raw: string
}

/**
 * A real SMTP server on 127.0.0.1 for tests: the app sends to it over TCP, and a
 * test awaits each mail as it arrives (no polling, no sleeps).
 */
export class SmtpInbox {
  readonly received: ReceivedMail[] = []
  readonly #waiting: Array<(mail: ReceivedMail) => void> = []
  #consumed = 0

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(options: Partial<SMTPServerOptions> = {}): Promise<SmtpInbox> {
    let inbox: SmtpInbox | undefined
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      ...options,
      onData(stream, session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          inbox!.deliver(
            parseMail(
              Buffer.concat(chunks).toString('utf8'),
              session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              session.envelope.rcptTo.map((r) => r.address),
            ),
          )
          callback()
        })
      },
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    inbox = new SmtpInbox(server, (server.server.address() as AddressInfo).port)
    return inbox
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`
  }

  private deliver(mail: ReceivedMail): void {
    this.received.push(mail)
    const waiter = this.#waiting.shift()
    if (waiter) {
      this.#consumed += 1
      waiter(mail)
    }
  }

  /** The next mail not yet taken, waiting for it to arrive if need be. */
  next(): Promise<ReceivedMail> {
    const ready = this.received[this.#consumed]
    if (ready) {
      this.#consumed += 1
      return Promise.resolve(ready)
    }
    return new Promise((resolve) => this.#waiting.push(resolve))
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

function splitHeaders(part: string): { headers: Map<string, string>; body: string } {
  const at = part.indexOf('\r\n\r\n')
  const head = at < 0 ? part : part.slice(0, at)
  const body = at < 0 ? '' : part.slice(at + 4)
  const headers = new Map<string, string>()
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  return { headers, body }
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
    case 'quoted-printable': {
      const bytes = body
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/gi, (_match, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
      return Buffer.from(bytes, 'latin1').toString('utf8')
    }
    default:
      return body
  }
}

/** Just enough MIME for Plinth's own mails: one text part, or a multipart/alternative of text and HTML. */
function parseMail(raw: string, from: string, to: string[]): ReceivedMail {
  const { headers, body } = splitHeaders(raw)
  const mail: ReceivedMail = { from, to, subject: headers.get('subject') ?? '', text: '', html: '', raw }
  const boundary = /boundary="?([^";]+)"?/i.exec(headers.get('content-type') ?? '')?.[1]
  const parts = boundary
    ? body
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((part) => splitHeaders(part.replace(/^\r\n/, '')))
    : [{ headers, body }]
  for (const part of parts) {
    const type = part.headers.get('content-type') ?? 'text/plain'
    const content = decodeBody(part.body.replace(/\r\n$/, ''), part.headers.get('content-transfer-encoding'))
    if (type.startsWith('text/plain')) mail.text = content
    else if (type.startsWith('text/html')) mail.html = content
  }
  return mail
}
