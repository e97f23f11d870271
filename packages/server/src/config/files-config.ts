import { join } from 'node:path'
import { byteSize, ConfigError, type Env, flag, integer } from './env-values.js'

/** An S3-compatible bucket (AWS, MinIO, R2, …) that holds the files instead of the data folder. */
export interface S3Config {
  endpoint: string | null
  bucket: string
  region: string
  accessKey: string
  secret: string
  /** `https://host/bucket/key` instead of `https://bucket.host/key`; MinIO and most self-hosted servers need it. */
  forcePathStyle: boolean
}

export interface FilesConfig {
  /** The local folder of the files when no S3 bucket is configured. */
  localDir: string
  s3: S3Config | null
  /** Bytes all the files of one request may add up to. */
  maxUploadBytes: number
  /** Parts (files and form values) one multipart request may have. */
  maxParts: number
  /** Images with more pixels than this are refused at upload and never decoded for a thumbnail. */
  maxImagePixels: number
  /** Seconds a file token (for protected files) stays valid. */
  tokenTtl: number
}

function s3Config(env: Env): S3Config | null {
  const bucket = env.PLINTH_S3_BUCKET?.trim()
  if (!bucket) return null
  const required = (key: string): string => {
    const value = env[key]?.trim()
    if (!value) throw new ConfigError(key, 'is required when PLINTH_S3_BUCKET is set')
    return value
  }
  const endpoint = env.PLINTH_S3_ENDPOINT?.trim() || null
  if (endpoint !== null && !/^https?:\/\//.test(endpoint))
    throw new ConfigError('PLINTH_S3_ENDPOINT', `expected an http:// or https:// URL, got "${endpoint}"`)
  return {
    endpoint,
    bucket,
    region: env.PLINTH_S3_REGION?.trim() || 'us-east-1',
    accessKey: required('PLINTH_S3_ACCESS_KEY'),
    secret: required('PLINTH_S3_SECRET'),
    forcePathStyle: flag(env, 'PLINTH_S3_FORCE_PATH_STYLE'),
  }
}

export function filesConfig(env: Env, dataDir: string): FilesConfig {
  return {
    localDir: join(dataDir, 'storage'),
    s3: s3Config(env),
    maxUploadBytes: byteSize(env, 'PLINTH_UPLOAD_LIMIT', 1024 ** 3),
    maxParts: integer(env, 'PLINTH_UPLOAD_MAX_PARTS', 200, 1, 10_000),
    maxImagePixels: integer(env, 'PLINTH_IMAGE_MAX_PIXELS', 50_000_000, 1, 1_000_000_000),
    tokenTtl: integer(env, 'PLINTH_FILE_TOKEN_TTL', 120, 10, 3600),
  }
}
