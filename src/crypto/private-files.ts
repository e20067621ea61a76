// Key material on local disk: owner-only directory (0700) and files (0600). Files are created
// exclusively or replaced by rename, so a crash or a second process never leaves a half-written key.
import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'

export const DIR_MODE = 0o700
export const FILE_MODE = 0o600

/** Creates `dir` (and parents) and makes it owner-only even if it already existed looser. */
export async function ensurePrivateDir (dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE })
  const s = await stat(dir)
  if ((s.mode & 0o777) !== DIR_MODE) await chmod(dir, DIR_MODE)
}

async function writeTemp (path: string, data: string | Uint8Array): Promise<string> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(tmp, 'wx', FILE_MODE)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  return tmp
}

/** Writes a complete file at `path` only if none exists; false when another writer got there first. */
export async function createPrivateFile (path: string, data: string | Uint8Array): Promise<boolean> {
  const tmp = await writeTemp(path, data)
  try {
    // link() fails with EEXIST instead of replacing, and the target appears complete or not at all.
    await link(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await unlink(tmp)
  }
}

/** Replaces `path` atomically. */
export async function replacePrivateFile (path: string, data: string | Uint8Array): Promise<void> {
  const tmp = await writeTemp(path, data)
  await rename(tmp, path)
}

/** Reads a key file, tightening its mode to 0600 if someone loosened it. Undefined when absent. */
export async function readPrivateFile (path: string): Promise<Buffer | undefined> {
  try {
    const s = await stat(path)
    if ((s.mode & 0o777) !== FILE_MODE) await chmod(path, FILE_MODE)
    return await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function removeFile (path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
