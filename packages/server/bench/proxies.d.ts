export type ProxyKind = 'nginx' | 'haproxy'

export interface RunningProxy {
  kind: ProxyKind
  port: number
  url: string
  pid: number
  /** What the proxy wrote to stderr and its error log. */
  logs(): string
  stop(): Promise<void>
}

export function installedProgram(name: string): string | null
export function proxySkipReason(kind: ProxyKind): string
export function renderNginx(upstreams: string[], port: number, dir: string): string
export function renderHaproxy(upstreams: string[], port: number): string
export function startProxy(
  kind: ProxyKind,
  upstreams: string[],
  options?: { workers?: number },
): Promise<RunningProxy>
export function whenListening(
  port: number,
  child: import('node:child_process').ChildProcess,
  failure: () => string,
): Promise<void>
