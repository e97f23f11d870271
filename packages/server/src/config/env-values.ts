/** A configuration value that cannot be used; start-up stops with this message naming the key. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    why: string,
  ) {
    super(`Invalid configuration ${key}: ${why}`)
    this.name = 'ConfigError'
  }
}

export type Env = Record<string, string | undefined>

export function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(key, `expected a whole number, got "${raw}"`)
  const value = Number(raw)
  if (value < min || value > max) throw new ConfigError(key, `expected ${min}..${max}, got ${value}`)
  return value
}

export function oneOf<T extends string>(env: Env, key: string, values: readonly T[], fallback: T): T {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  const value = raw.trim().toLowerCase() as T
  if (!values.includes(value))
    throw new ConfigError(key, `expected one of ${values.join(', ')}, got "${raw}"`)
  return value
}

/** Byte sizes like 1048576, 512kb, 1mb, 2gb. */
export function byteSize(env: Env, key: string, fallback: number): number {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  const match = /^(\d+)\s*(b|kb|kib|mb|mib|gb|gib)?$/i.exec(raw.trim())
  if (!match) throw new ConfigError(key, `expected a size such as 1048576 or 2mb, got "${raw}"`)
  const unit = (match[2] ?? 'b').toLowerCase()
  const factor = unit.startsWith('k')
    ? 1024
    : unit.startsWith('m')
      ? 1024 ** 2
      : unit.startsWith('g')
        ? 1024 ** 3
        : 1
  const value = Number(match[1]) * factor
  if (value < 1024) throw new ConfigError(key, 'must be at least 1kb')
  return value
}

export function flag(env: Env, key: string): boolean {
  const raw = env[key]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return false
  if (raw === 'true' || raw === '1') return true
  if (raw === 'false' || raw === '0') return false
  throw new ConfigError(key, `expected true or false, got "${env[key]}"`)
}
