import type { FilesConfig } from '../../config/index.js'
import { LocalStorage } from './local.js'
import type { FileStorage } from './types.js'

/**
 * The storage the configuration names: the S3 bucket when one is set, else the local
 * folder. The AWS SDK is loaded only then: it is large, and most instances never need it.
 */
export async function openFileStorage(config: FilesConfig): Promise<FileStorage> {
  if (!config.s3) return new LocalStorage(config.localDir)
  const { S3Storage } = await import('./s3.js')
  return new S3Storage(config.s3)
}

export { LocalStorage } from './local.js'
export {
  type ByteRange,
  type FileStorage,
  isMissingObject,
  missingObject,
  type StoredObject,
} from './types.js'
