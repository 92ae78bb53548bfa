// Finding and reading policy files from disk: the I/O edge of `casskeeper validate`. Directories are walked
// recursively for *.yaml/*.yml (hidden entries skipped, symlink loops cut); every read is bounded by size.

import { open, readdir, realpath, stat } from "node:fs/promises";
import { extname, join, relative } from "node:path";
import { CasskeeperError } from "../core/errors.ts";

const YAML_EXTENSIONS = new Set([".yaml", ".yml"]);

/** Expands files and directories into a sorted list of YAML files. A missing path is a usage error. */
export async function collectYamlFiles(paths: readonly string[]): Promise<string[]> {
  const out = new Set<string>();
  const visited = new Set<string>();
  for (const p of paths) {
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(p);
    } catch {
      throw new CasskeeperError("load", "path.not-found", `${p}: no such file or directory`);
    }
    if (st.isDirectory()) await walk(p, out, visited);
    else out.add(p); // An explicit file is read whatever its extension.
  }
  return [...out].sort();
}

async function walk(dir: string, out: Set<string>, visited: Set<string>): Promise<void> {
  const real = await realpath(dir);
  if (visited.has(real)) return;
  visited.add(real);
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    const path = join(dir, e.name);
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const st = await stat(path).catch(() => undefined);
      isDir = st?.isDirectory() ?? false;
      isFile = st?.isFile() ?? false;
    }
    if (isDir) await walk(path, out, visited);
    else if (isFile && YAML_EXTENSIONS.has(extname(e.name).toLowerCase())) out.add(path);
  }
}

/**
 * Reads at most `maxBytes + 1` bytes, so a huge file costs no more memory than the limit and is still
 * recognised as too large by the loader.
 */
export async function readBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(path, "r");
  try {
    // Sized from the file, not the limit: most policy files are a few KB. The +1 byte tells "too large" apart.
    const { size } = await handle.stat();
    const buf = new Uint8Array(Math.min(size, maxBytes) + 1);
    let filled = 0;
    while (filled < buf.length) {
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled === buf.length && buf.length <= maxBytes) {
      throw new CasskeeperError("load", "file.changed", `${path}: file grew while it was being read`);
    }
    return buf.subarray(0, filled);
  } catch (e) {
    if (e instanceof CasskeeperError) throw e;
    throw new CasskeeperError("load", "file.read", `${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await handle.close();
  }
}

/** Paths are printed relative to the working directory when that is shorter, as compilers do. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== "" && !rel.startsWith("..") && rel.length < path.length ? rel : path;
}
