import type { ServerResponse } from 'node:http'
import type { WebSocket } from 'ws'
import type { Delivery, EndReason, Transport } from './client.js'

/** Names of Plinth's own SSE events; topics always hold a `/`, so none can be taken for one. */
export const CONNECT_EVENT = 'PB_CONNECT'
export const RESET_EVENT = 'PB_RESET'
export const END_EVENT = 'PB_END'

/**
 * Server-Sent Events as the PocketBase SDK reads them: the first event's id is the client
 * id (the SDK takes it from `lastEventId`), later ones carry the event's seq, so a browser
 * reconnecting on its own sends `Last-Event-ID` and resumes where it stopped.
 */
export class SseTransport implements Transport {
  constructor(private readonly response: ServerResponse) {}

  connected(clientId: string): void {
    this.#write(`id:${clientId}\nevent:${CONNECT_EVENT}\ndata:${JSON.stringify({ clientId })}\n\n`)
  }

  events(deliveries: Delivery[]): void {
    if (this.response.destroyed || this.response.writableEnded) return
    // One system call for the round, however many events it holds.
    this.response.cork()
    for (const delivery of deliveries) {
      delivery.frame ??= Buffer.from(`id:${delivery.seq}\nevent:${delivery.topic}\ndata:${delivery.data}\n\n`)
      this.response.write(delivery.frame)
    }
    this.response.uncork()
  }

  reset(seq: number): void {
    this.#write(`id:${seq}\nevent:${RESET_EVENT}\ndata:{}\n\n`)
  }

  heartbeat(): void {
    // A comment line: EventSource ignores it, proxies and the socket see traffic.
    this.#write(':\n\n')
  }

  get buffered(): number {
    return this.response.writableLength
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

  #write(chunk: string): void {
    if (!this.response.destroyed && !this.response.writableEnded) this.response.write(chunk)
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
    for (const { seq, topic, data } of deliveries)
      this.send(`{"type":"event","id":"${seq}","topic":${JSON.stringify(topic)},"data":${data}}`)
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
