import { describe, expect, test } from 'vitest'
import { ConfigError, loadConfig } from './index.js'

describe('loadConfig', () => {
  test('defaults give the embedded setup on 127.0.0.1:8090', () => {
    const config = loadConfig({})
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8090,
      databaseUrl: null,
      publicUrl: 'http://127.0.0.1:8090',
      bodyLimit: 1024 * 1024,
      tokenTtl: 900,
      reauthWindow: 600,
      sqliteSync: 'full',
      statementTimeoutMs: 10_000,
      preparedStatements: true,
      trustProxy: false,
    })
    expect(config.dataDir).toMatch(/plinth_data$/)
  })

  test('reads every variable', () => {
    const config = loadConfig({
      PLINTH_HOST: '0.0.0.0',
      PLINTH_PORT: '9000',
      PLINTH_DATA_DIR: '/tmp/x',
      PLINTH_DATABASE_URL: 'postgres://u@db:5432/app',
      PLINTH_PUBLIC_URL: 'https://api.example.com/',
      PLINTH_SECRET: 's'.repeat(32),
      PLINTH_BODY_LIMIT: '2mb',
      PLINTH_LOG_LEVEL: 'WARN',
      PLINTH_LOG_FORMAT: 'Pretty',
      PLINTH_TOKEN_TTL: '60',
      PLINTH_REAUTH_WINDOW: '300',
      PLINTH_SQLITE_SYNC: 'normal',
      PLINTH_STATEMENT_TIMEOUT_MS: '500',
      PLINTH_DB_POOL_SIZE: '3',
      PLINTH_DB_PREPARED_STATEMENTS: 'off',
      PLINTH_SHUTDOWN_TIMEOUT_MS: '100',
      PLINTH_TRUSTED_PROXIES: '10.0.0.1, 10.0.0.2',
    })
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/tmp/x',
      databaseUrl: 'postgres://u@db:5432/app',
      publicUrl: 'https://api.example.com',
      bodyLimit: 2 * 1024 * 1024,
      logLevel: 'warn',
      logFormat: 'pretty',
      tokenTtl: 60,
      reauthWindow: 300,
      sqliteSync: 'normal',
      statementTimeoutMs: 500,
      poolSize: 3,
      preparedStatements: false,
      shutdownTimeoutMs: 100,
      trustProxy: ['10.0.0.1', '10.0.0.2'],
    })
  })

  test.each([
    ['PLINTH_PORT', 'eighty'],
    ['PLINTH_PORT', '70000'],
    ['PLINTH_DATABASE_URL', 'mysql://x'],
    ['PLINTH_DATABASE_URL', 'not a url'],
    ['PLINTH_BODY_LIMIT', 'lots'],
    ['PLINTH_BODY_LIMIT', '10'],
    ['PLINTH_LOG_LEVEL', 'loud'],
    ['PLINTH_LOG_FORMAT', 'xml'],
    ['PLINTH_TOKEN_TTL', '5'],
    ['PLINTH_REAUTH_WINDOW', '10'],
    ['PLINTH_REAUTH_WINDOW', 'ten minutes'],
    ['PLINTH_SQLITE_SYNC', 'off'],
    ['PLINTH_DB_PREPARED_STATEMENTS', 'yes'],
    ['PLINTH_SECRET', 'short'],
    ['PLINTH_PUBLIC_URL', 'not a url'],
    ['PLINTH_JOBS_CONCURRENCY', '0'],
    ['PLINTH_JOBS_POLL_INTERVAL_MS', '5'],
    ['PLINTH_JOBS_RETENTION_DAYS', 'a week'],
    ['PLINTH_JOBS_LEASE_MARGIN_MS', '10'],
    ['PLINTH_EVENTS_POLL_INTERVAL_MS', '0'],
    ['PLINTH_EVENTS_RETENTION_DAYS', '0'],
    ['PLINTH_EVENTS_LEASE_MS', '10'],
    ['PLINTH_EVENTS_AMQP_URL', 'http://127.0.0.1:5672'],
    ['PLINTH_EVENTS_NATS_URL', 'not a url'],
    ['PLINTH_EVENTS_MQTT_URL', 'amqp://127.0.0.1'],
    ['PLINTH_WEBHOOKS_ALLOW_PRIVATE', 'yes please'],
    ['PLINTH_WEBHOOKS_MAX_ATTEMPTS', '0'],
    ['PLINTH_WEBHOOKS_RETRY_BASE_MS', '-1'],
    ['PLINTH_WEBHOOKS_TIMEOUT_MS', '10'],
  ])('%s=%s stops start-up naming the key', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [key]: value })).toThrow(key)
  })

  test('reads the job worker settings, with defaults', () => {
    expect(loadConfig({}).jobs).toEqual({
      concurrency: 4,
      pollIntervalMs: 1000,
      retentionDays: 7,
      leaseMarginMs: 30_000,
    })
    expect(
      loadConfig({
        PLINTH_JOBS_CONCURRENCY: '16',
        PLINTH_JOBS_POLL_INTERVAL_MS: '250',
        PLINTH_JOBS_RETENTION_DAYS: '30',
        PLINTH_JOBS_LEASE_MARGIN_MS: '5000',
      }).jobs,
    ).toEqual({ concurrency: 16, pollIntervalMs: 250, retentionDays: 30, leaseMarginMs: 5000 })
  })

  test('reads the event settings, with brokers off by default', () => {
    expect(loadConfig({}).events).toEqual({
      pollIntervalMs: 250,
      retentionDays: 7,
      leaseMs: 30_000,
      amqpUrl: null,
      natsUrl: null,
      mqttUrl: null,
    })
    expect(
      loadConfig({
        PLINTH_EVENTS_RETENTION_DAYS: '30',
        PLINTH_EVENTS_AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
        PLINTH_EVENTS_NATS_URL: 'nats://127.0.0.1:4222',
        PLINTH_EVENTS_MQTT_URL: 'mqtt://127.0.0.1:1883',
      }).events,
    ).toMatchObject({
      retentionDays: 30,
      amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
      natsUrl: 'nats://127.0.0.1:4222',
      mqttUrl: 'mqtt://127.0.0.1:1883',
    })
    expect(loadConfig({}).webhooks).toMatchObject({
      allowPrivate: false,
      maxAttempts: 15,
      retryBaseMs: 10_000,
      timeoutMs: 10_000,
      breakerThreshold: 10,
      breakerPauseMs: 60_000,
    })
    expect(loadConfig({ PLINTH_WEBHOOKS_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(true)
  })

  test('explicit overrides win over the environment', () => {
    expect(loadConfig({ PLINTH_PORT: '1' }, { port: 2 }).port).toBe(2)
  })
})
