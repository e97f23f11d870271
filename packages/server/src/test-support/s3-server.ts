import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'
import type { S3Config } from '../config/index.js'

export interface S3TestServer {
  config: S3Config
  close(): Promise<void>
}

/**
 * An S3-compatible server on loopback (s3rver, from npm) with an empty bucket. It does
 * not check request signatures, so tests of who may read a file must not rely on it.
 */
export async function startS3Server(bucket = 'plinth-test'): Promise<S3TestServer> {
  const directory = await mkdtemp(join(tmpdir(), 'plinth-s3-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  })
  const address = (await server.run()) as AddressInfo
  return {
    config: {
      endpoint: `http://127.0.0.1:${address.port}`,
      bucket,
      region: 'us-east-1',
      accessKey: 'S3RVER',
      secret: 'S3RVER',
      forcePathStyle: true,
    },
    async close() {
      await server.close()
      await rm(directory, { recursive: true, force: true })
    },
  }
}
