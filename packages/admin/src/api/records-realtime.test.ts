import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'

const client = vi.hoisted(() => ({
  api: vi.fn(async () => undefined),
  refreshSession: vi.fn(async () => true),
}))
vi.mock('./client', () => client)

const { subscribeToRecords } = await import('./records')

/** Stands in for the browser's EventSource: the test plays the server's side of each stream. */
class FakeEventSource extends EventTarget {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  static opened: FakeEventSource[] = []
  readyState = FakeEventSource.CONNECTING

  constructor(readonly url: string) {
    super()
    FakeEventSource.opened.push(this)
  }

  connect(clientId: string) {
    this.readyState = FakeEventSource.OPEN
    this.dispatchEvent(new MessageEvent('PB_CONNECT', { data: JSON.stringify({ clientId }) }))
  }

  refuse() {
    this.readyState = FakeEventSource.CLOSED
    this.dispatchEvent(new Event('error'))
  }

  close() {
    this.readyState = FakeEventSource.CLOSED
  }
}

describe('subscribeToRecords', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    FakeEventSource.opened = []
    vi.stubGlobal('EventSource', FakeEventSource)
    client.api.mockClear()
    client.refreshSession.mockClear()
    client.refreshSession.mockResolvedValue(true)
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  test('a refused stream is opened again after a refresh, with growing pauses, and then resynced', async () => {
    const onResync = vi.fn()
    const close = subscribeToRecords('posts', () => {}, onResync)
    const [first] = FakeEventSource.opened
    first!.connect('a')
    await vi.waitFor(() => expect(client.api).toHaveBeenCalledTimes(1))
    expect(onResync).not.toHaveBeenCalled()

    first!.refuse()
    await vi.advanceTimersByTimeAsync(500)
    expect(client.refreshSession).toHaveBeenCalledTimes(1)
    const second = FakeEventSource.opened[1]!
    second.refuse()
    // The second failure in a row waits twice as long before trying again.
    await vi.advanceTimersByTimeAsync(999)
    expect(FakeEventSource.opened).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    const third = FakeEventSource.opened[2]!
    third.connect('b')
    await vi.waitFor(() => expect(onResync).toHaveBeenCalledTimes(1))
    expect(client.api).toHaveBeenLastCalledWith('/api/realtime', {
      method: 'POST',
      body: { clientId: 'b', subscriptions: ['posts/*'] },
    })
    close()
    expect(third.readyState).toBe(FakeEventSource.CLOSED)
  })

  test('a refresh that fails leaves the stream closed, and a closed subscription never reopens', async () => {
    client.refreshSession.mockResolvedValue(false)
    const close = subscribeToRecords(
      'posts',
      () => {},
      () => {},
    )
    FakeEventSource.opened[0]!.refuse()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeEventSource.opened).toHaveLength(1)
    close()

    client.refreshSession.mockResolvedValue(true)
    const closeAgain = subscribeToRecords(
      'posts',
      () => {},
      () => {},
    )
    FakeEventSource.opened[1]!.refuse()
    closeAgain()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(FakeEventSource.opened).toHaveLength(2)
  })

  test('events of the topic reach the listener with their action and record', () => {
    const onChange = vi.fn()
    subscribeToRecords('posts', onChange, () => {})
    const stream = FakeEventSource.opened[0]!
    stream.dispatchEvent(
      new MessageEvent('posts/*', { data: JSON.stringify({ action: 'update', record: { id: 'r1' } }) }),
    )
    expect(onChange).toHaveBeenCalledWith('update', { id: 'r1' })
  })
})
