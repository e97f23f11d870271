import { type ClientRequest, request } from 'node:http'
import WebSocket from 'ws'

/** One SSE message as a client parses it. */
export interface SseMessage {
  id: string
  event: string
  data: string
}

/** A raw SSE stream of `GET /api/realtime`, read as EventSource would read it. */
export interface SseStream {
  clientId: string
  status: number
  messages: SseMessage[]
  /** Messages named after a topic, parsed: `{action, record}`. */
  events(topic?: string): { id: string; topic: string; action: string; record: Record<string, any> }[]
  /** Resolves once `check` holds for the messages so far; rejects after `within` ms. */
  until(check: (messages: SseMessage[]) => boolean, within?: number): Promise<void>
  /** Resolves when the server ends the stream. */
  ended: Promise<void>
  close(): void
}

/** Opens an SSE stream and waits for PB_CONNECT (or answers the error status with `clientId` empty). */
export function openStream(baseUrl: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const messages: SseMessage[] = []
    const waiters = new Set<() => void>()
    let req: ClientRequest | undefined
    let endedResolve: () => void = () => {}
    const ended = new Promise<void>((done) => {
      endedResolve = done
    })
    const notify = () => {
      for (const waiter of [...waiters]) waiter()
    }
    const stream: SseStream = {
      clientId: '',
      status: 0,
      messages,
      events(topic) {
        return messages
          .filter((m) => m.event.includes('/') && (topic === undefined || m.event === topic))
          .map((m) => ({ id: m.id, topic: m.event, ...JSON.parse(m.data) }))
      },
      until: waitFor(messages, waiters),
      ended,
      close() {
        req?.destroy()
      },
    }
    req = request(
      `${baseUrl}/api/realtime`,
      { headers: { accept: 'text/event-stream', ...headers } },
      (res) => {
        stream.status = res.statusCode ?? 0
        res.setEncoding('utf8')
        if (stream.status !== 200) {
          let body = ''
          res.on('data', (chunk) => {
            body += chunk
          })
          res.on('end', () => {
            stream.messages.push({ id: '', event: 'error', data: body })
            resolve(stream)
          })
          return
        }
        let buffer = ''
        res.on('data', (chunk: string) => {
          buffer += chunk
          let end = buffer.indexOf('\n\n')
          while (end !== -1) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            end = buffer.indexOf('\n\n')
            const message: SseMessage = { id: '', event: 'message', data: '' }
            let isComment = true
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue
              isComment = false
              const colon = line.indexOf(':')
              const field = line.slice(0, colon)
              const value = line.slice(colon + 1)
              if (field === 'id' || field === 'event' || field === 'data') message[field] = value
            }
            if (isComment) continue
            messages.push(message)
            if (message.event === 'PB_CONNECT') {
              stream.clientId = JSON.parse(message.data).clientId
              resolve(stream)
            }
          }
          notify()
        })
        res.on('close', () => endedResolve())
      },
    )
    req.on('error', (error) => {
      endedResolve()
      if (!stream.clientId) reject(error)
    })
    req.end()
  })
}

/** `POST /api/realtime` as the SDK sends it. */
export async function setSubscriptions(
  baseUrl: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: any; contentType: string | null }> {
  const response = await fetch(`${baseUrl}/api/realtime`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  const text = await response.text()
  return {
    status: response.status,
    body: text ? JSON.parse(text) : null,
    contentType: response.headers.get('content-type'),
  }
}

/** A WebSocket to `/api/realtime/ws` whose JSON messages are collected. */
export interface RealtimeSocket {
  socket: WebSocket
  clientId: string
  messages: Record<string, any>[]
  send(message: unknown): void
  until(check: (messages: Record<string, any>[]) => boolean, within?: number): Promise<void>
  closed: Promise<{ code: number }>
}

export function openSocket(
  baseUrl: string,
  path = '/api/realtime/ws',
  headers = {},
): Promise<RealtimeSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${path}`, { headers })
    const messages: Record<string, any>[] = []
    const waiters = new Set<() => void>()
    const closed = new Promise<{ code: number }>((done) => socket.on('close', (code) => done({ code })))
    const handle: RealtimeSocket = {
      socket,
      clientId: '',
      messages,
      send(message) {
        socket.send(typeof message === 'string' ? message : JSON.stringify(message))
      },
      until: waitFor(messages, waiters),
      closed,
    }
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString())
      messages.push(message)
      if (message.type === 'connect') {
        handle.clientId = message.clientId
        resolve(handle)
      }
      for (const waiter of [...waiters]) waiter()
    })
    socket.on('error', reject)
    socket.on('close', () => {
      if (!handle.clientId) resolve(handle)
    })
  })
}

/**
 * Waits until `check` holds for the messages received so far; each arriving message
 * calls the waiters. Generous by default: a loaded machine delays delivery, not its order.
 */
function waitFor<M>(messages: M[], waiters: Set<() => void>) {
  return (check: (messages: M[]) => boolean, within = 15_000): Promise<void> => {
    if (check(messages)) return Promise.resolve()
    return new Promise((done, fail) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter)
        fail(new Error(`timed out; messages: ${JSON.stringify(messages).slice(0, 2000)}`))
      }, within)
      const waiter = () => {
        if (!check(messages)) return
        clearTimeout(timer)
        waiters.delete(waiter)
        done()
      }
      waiters.add(waiter)
    })
  }
}
