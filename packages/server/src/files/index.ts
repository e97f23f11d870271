/**
 * Files of records: file fields' uploads stream to a storage (a local folder or an S3
 * bucket), `_files` keeps one row per file in the record's transaction, a job removes
 * what no record holds, and files are served with ranges, thumbnails and tokens.
 */
export type { BatchForm, SpooledFile } from './batch-form.js'
export { FILES_TABLE, filesMigration } from './migration.js'
export { filesRoutes } from './routes.js'
export { CLEANUP_JOB, FileService, objectKey } from './service.js'
export { type FileStorage, LocalStorage, openFileStorage } from './storage/index.js'
export type { UploadBudget } from './uploads.js'
