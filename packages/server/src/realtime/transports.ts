import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { Delivery, EndReason, RoundFrames, Transport } from './client.js'

/** Names of Plinth's own SSE events; topics always hold a `/`, so none can be taken for one. */
export const CONNECT_EVENT = 'PB_CONNECT'
export const RESET_EVENT = 'PB_RESET'
export const END_EVENT = 'PB_END'

const CRLF = Buffer.from('\r\n')

/**
 * Server-Sent Events as the PocketBase SDK reads them: the first event's id is the client
 * id (the SDK takes it from `lastEventId`), later ones carry the event's seq, so a browser
 * reconnecting on its own sends `Last-Event-ID` and resumes where it stopped.
 *
 * Once the headers are out, events go straight to the socket as whole HTTP chunks: clients
 * that get the same events in a round share one buffer, and each costs one write, where
 * the response's own `write` would frame and queue every event again for every client.
 */
export class SseTransport implements Transport {
  #socket: Socket | null = null
  #isChunked = false

  constructor(private readonly response: ServerResponse) {}

  /** Sends the status and headers, after which the stream is the socket's. */
  open(headers: OutgoingHttpHeaders): void {
    this.response.writeHead(200, headers)
    this.response.flushHeaders()
    this.#socket = this.response.socket
    // An HTTP/1.0 client gets the stream unframed, ended by closing the connection.
    this.#isChunked = this.response.chunkedEncoding
    this.#socket?.setNoDelay(true)
  }

  connected(clientId: string): void {
    this.#write(`id:${clientId}\nevent:${CONNECT_EVENT}\ndata:${JSON.stringify({ clientId })}\n\n`)
  }

  events(deliveries: Delivery[], round: RoundFrames): void {
    if (!this.#isWritable()) return
    // Clients of one audience are handed the same array: found by identity, no key to build.
    const shared = this.#isChunked ? deliveries : null
    let bytes = shared && round.get(shared)
    if (bytes) {
      this.#socket!.write(bytes)
      return
    }
    const keys = deliveries.length === 1 ? deliveries[0]!.key : deliveries.map((d) => d.key).join(',')
    const key = this.#isChunked ? keys : `raw:${keys}`
    bytes = round.get(key)
    if (!bytes) {
      const frames = deliveries.map((delivery) => {
        delivery.sseFrame ??= `id:${delivery.seq}\nevent:${delivery.topic}\ndata:${delivery.data}\n\n`
        return delivery.sseFrame
      })
      bytes = this.#framed(frames.join(''))
      round.set(key, bytes)
    }
    if (shared) round.set(shared, bytes)
    this.#socket!.write(bytes)
  }

  reset(seq: number): void {
    this.#write(`id:${seq}\nevent:${RESET_EVENT}\ndata:{}\n\n`)
  }

  heartbeat(): void {
    // A comment line: EventSource ignores it, proxies and the socket see traffic.
    this.#write(':\n\n')
  }

  get buffered(): number {
    return this.#socket?.writableLength ?? 0
  }

  end(reason: EndReason): void {
    if (this.response.destroyed) return
    // A client too slow to read would not read this either; its buffer is dropped with it.
    if (reason === 'too_slow') {
      this.response.destroy()
      return
    }
    this.response.end(`event:${END_EVENT}\ndata:${JSON.stringify({ reason })}\n\n`)
  }

  #isWritable(): boolean {
    return this.#socket !== null && !this.response.destroyed && !this.response.writableEnded
  }

  #write(text: string): void {
    if (this.#isWritable()) this.#socket!.write(this.#framed(text))
  }

  #framed(text: string): Buffer {
    const body = Buffer.from(text)
    if (!this.#isChunked) return body
    return Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, CRLF])
  }
}

/** Close codes of an ended WebSocket: 4000 + the HTTP status it stands for, as is common. */
const CLOSE_CODES: Record<Exclude<EndReason, 'too_slow'>, number> = {
  expired: 4401,
  revoked: 4401,
  shutdown: 1001,
}

/** The same stream over a WebSocket, as JSON messages with a `type`. */
export class WebSocketTransport implements Transport {
  #isAlive = true

  constructor(private readonly socket: WebSocket) {
    socket.on('pong', () => {
      this.#isAlive = true
    })
  }

  connected(clientId: string): void {
    this.send(JSON.stringify({ type: 'connect', clientId }))
  }

  events(deliveries: Delivery[]): void {
    for (const delivery of deliveries) {
      const { seq, topic, data } = delivery
      delivery.socketMessage ??= `{"type":"event","id":"${seq}","topic":${JSON.stringify(topic)},"data":${data}}`
      this.send(delivery.socketMessage)
    }
  }

  reset(seq: number): void {
    this.send(JSON.stringify({ type: 'reset', id: String(seq) }))
  }

  /** A ping; a peer that did not answer the last one is gone and is cut off. */
  heartbeat(): void {
    if (!this.#isAlive) {
      this.socket.terminate()
      return
    }
    this.#isAlive = false
    if (this.socket.readyState === this.socket.OPEN) this.socket.ping()
  }

  get buffered(): number {
    return this.socket.bufferedAmount
  }

  end(reason: EndReason): void {
    if (reason === 'too_slow') {
      this.socket.terminate()
      return
    }
    this.send(JSON.stringify({ type: 'end', reason }))
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(CLOSE_CODES[reason], reason)
  }

  send(message: string): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(message)
  }
}
