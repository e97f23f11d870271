import { hostname } from 'node:os'
import { describe, expect, test } from 'vitest'
import { ConfigError, loadConfig } from './index.js'

describe('PLINTH_NODE_ID', () => {
  test('is taken as given', () => {
    expect(loadConfig({ PLINTH_NODE_ID: 'api-eu-1' }).nodeId).toBe('api-eu-1')
    expect(loadConfig({ PLINTH_NODE_ID: '  web.2_b  ' }).nodeId).toBe('web.2_b')
  })

  test('defaults to the host name and a random suffix, different for each process', () => {
    const first = loadConfig({}).nodeId
    const second = loadConfig({}).nodeId
    expect(first).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{6}$/)
    expect(first.slice(0, -7)).toBe(
      hostname()
        .replace(/[^A-Za-z0-9._-]+/g, '-')
        .replace(/^[^A-Za-z0-9]+/, '')
        .slice(0, 50),
    )
    expect(second).not.toBe(first)
  })

  test('an override wins over the environment', () => {
    expect(loadConfig({ PLINTH_NODE_ID: 'from-env' }, { nodeId: 'given' }).nodeId).toBe('given')
  })

  test.each([
    ['a space', 'node 1'],
    ['a line break', 'node\n1'],
    ['a quote', 'node"1'],
    ['SQL', "n1'; drop table _logs; --"],
    ['a label injection', 'n1",evil="1'],
    ['__proto__', '__proto__'],
    ['a leading dot', '.node'],
    ['65 characters', 'n'.repeat(65)],
    ['non-ASCII letters', 'nœud'],
  ])('%s stops start-up naming the key', (_name, value) => {
    expect(() => loadConfig({ PLINTH_NODE_ID: value })).toThrow(ConfigError)
    expect(() => loadConfig({ PLINTH_NODE_ID: value })).toThrow('PLINTH_NODE_ID')
  })
})

describe('metrics settings', () => {
  test('default to superusers only, with readings kept 5 seconds', () => {
    expect(loadConfig({}).metrics).toEqual({ token: null, cacheMs: 5000 })
  })

  test('read the token and the cache time', () => {
    const token = 'a'.repeat(32)
    expect(loadConfig({ PLINTH_METRICS_TOKEN: ` ${token} `, PLINTH_METRICS_CACHE_MS: '0' }).metrics).toEqual({
      token,
      cacheMs: 0,
    })
  })

  test.each([
    ['PLINTH_METRICS_TOKEN', 'short'],
    ['PLINTH_METRICS_TOKEN', `${'a'.repeat(20)} ${'b'.repeat(20)}`],
    ['PLINTH_METRICS_TOKEN', `${'a'.repeat(32)}\n`.repeat(2)],
    ['PLINTH_METRICS_TOKEN', 'ä'.repeat(40)],
    ['PLINTH_METRICS_TOKEN', 'a'.repeat(513)],
    ['PLINTH_METRICS_CACHE_MS', 'soon'],
    ['PLINTH_METRICS_CACHE_MS', '600001'],
  ])('%s=%j stops start-up naming the key', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [key]: value })).toThrow(key)
  })
})

describe('request log settings', () => {
  test('default to a week, sampled above 100 requests a second', () => {
    expect(loadConfig({}).requestLogs).toEqual({ retentionDays: 7, maxPerSecond: 100 })
  })

  test('read the retention (0 turns them off) and the rate', () => {
    expect(
      loadConfig({ PLINTH_LOGS_RETENTION_DAYS: '0', PLINTH_LOGS_MAX_PER_SECOND: '5000' }).requestLogs,
    ).toEqual({ retentionDays: 0, maxPerSecond: 5000 })
  })

  test.each([
    ['PLINTH_LOGS_RETENTION_DAYS', '-1'],
    ['PLINTH_LOGS_RETENTION_DAYS', 'a week'],
    ['PLINTH_LOGS_RETENTION_DAYS', '3651'],
    ['PLINTH_LOGS_MAX_PER_SECOND', '0'],
    ['PLINTH_LOGS_MAX_PER_SECOND', '1.5'],
  ])('%s=%j stops start-up naming the key', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [key]: value })).toThrow(key)
  })
})
