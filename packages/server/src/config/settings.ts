import type { PlinthConfig } from './config.js'
import { plinthVersion } from './version.js'

/** A secret as the settings show it: whether it is set, never its value. */
export interface SecretSetting {
  isSet: boolean
}

const secret = (value: string | null | undefined): SecretSetting => ({ isSet: Boolean(value) })

/**
 * The effective configuration, as `GET /api/settings` answers it. Every key is chosen here
 * rather than copied from the config and redacted: a secret added to the config later stays
 * out until someone decides how to show it. URLs of other services count as secrets, since
 * they carry credentials (`postgres://user:pass@…`, `smtp://user:pass@…`).
 *
 * @example effectiveSettings(config).mail.smtp // { isSet: true }
 */
export function effectiveSettings(config: PlinthConfig) {
  const s3 = config.files.s3
  return {
    version: plinthVersion(),
    app: { name: config.appName, publicUrl: config.publicUrl, nodeId: config.nodeId },
    server: {
      host: config.host,
      port: config.port,
      bodyLimit: config.bodyLimit,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      drainDelayMs: config.drainDelayMs,
      rateLimits: config.rateLimits,
    },
    database: {
      dialect: config.databaseUrl ? 'postgres' : 'sqlite',
      url: secret(config.databaseUrl),
      dataDir: config.dataDir,
      sqliteSync: config.sqliteSync,
      statementTimeoutMs: config.statementTimeoutMs,
      poolSize: config.poolSize,
      preparedStatements: config.preparedStatements,
    },
    auth: {
      tokenTtl: config.tokenTtl,
      sessionTtl: config.sessionTtl,
      reauthWindow: config.reauthWindow,
      // Null reads the key file in the data folder; set means PLINTH_SECRET.
      secretFromEnvironment: secret(config.secret),
      webauthn: config.webauthn,
    },
    mail: { smtp: secret(config.smtpUrl), from: config.mailFrom },
    files: {
      storage: s3 ? 's3' : 'local',
      localDir: config.files.localDir,
      s3: s3
        ? {
            endpoint: s3.endpoint,
            bucket: s3.bucket,
            region: s3.region,
            forcePathStyle: s3.forcePathStyle,
            accessKey: secret(s3.accessKey),
            secret: secret(s3.secret),
          }
        : null,
      maxUploadBytes: config.files.maxUploadBytes,
      maxParts: config.files.maxParts,
      maxImagePixels: config.files.maxImagePixels,
      tokenTtl: config.files.tokenTtl,
    },
    jobs: config.jobs,
    events: {
      pollIntervalMs: config.events.pollIntervalMs,
      retentionDays: config.events.retentionDays,
      leaseMs: config.events.leaseMs,
      amqp: secret(config.events.amqpUrl),
      nats: secret(config.events.natsUrl),
      mqtt: secret(config.events.mqttUrl),
    },
    webhooks: config.webhooks,
    realtime: config.realtime,
    metrics: { token: secret(config.metrics.token), cacheMs: config.metrics.cacheMs },
    requestLogs: config.requestLogs,
    traces: {
      endpoint: secret(config.traces.endpoint),
      serviceName: config.traces.serviceName,
      sampleRatio: config.traces.sampleRatio,
      followsParent: config.traces.followsParent,
    },
    cluster: {
      redis: secret(config.cluster.redisUrl),
      redisPrefix: config.cluster.redisPrefix,
      memcached: secret(config.cluster.memcachedUrl),
      replicas: config.cluster.replicaUrls.length,
      replicaStickyMs: config.cluster.replicaStickyMs,
    },
    cache: config.cache,
    backups: config.backups,
    logs: { level: config.logLevel, format: config.logFormat },
    projectConfig: config.projectConfig,
  }
}

export type Settings = ReturnType<typeof effectiveSettings>
