// Owns the --data file: loading it at start, saving after changes (debounced) and at shutdown, always by
// writing a temporary file and renaming it over the old one, so the file is never half-written.

import { existsSync } from "node:fs";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";

/** Writes text to file atomically (temp file in the same folder, then rename). */
export async function writeFileAtomic(file, text) {
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

export class Persister {
  /** file: path or null (then every method is a no-op); snapshot(): the data to save. */
  constructor(file, snapshot, debounceMs) {
    this.file = file;
    this.snapshot = snapshot;
    this.debounceMs = debounceMs;
    this.delayMs = debounceMs; // grows with the cost of a save, so big data sets don't stall the server
    this.timer = null;
    this.dirty = false;
    this.saving = Promise.resolve();
    this.lastError = null;
  }

  /** The saved data, or null when there is no file yet. Throws on an unreadable or corrupt file. */
  async load() {
    if (!this.file || !existsSync(this.file)) return null;
    const text = await readFile(this.file, "utf8");
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`Data file ${this.file} is not valid JSON (${err.message}); move it away or fix it`);
    }
  }

  markDirty() {
    if (!this.file) return;
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.save();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Saves now if there are unsaved changes; saves never overlap. */
  save() {
    if (!this.file) return Promise.resolve();
    this.saving = this.saving.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const started = Date.now();
      try {
        await writeFileAtomic(this.file, JSON.stringify(this.snapshot()));
        this.lastError = null;
        this.delayMs = Math.max(this.debounceMs, (Date.now() - started) * 5);
      } catch (err) {
        this.dirty = true;
        this.lastError = err;
        console.error(`sandbox: could not save ${this.file}: ${err.message}`);
      }
    });
    return this.saving;
  }

  /** Cancels the pending debounce and saves whatever is unsaved. */
  async flush() {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    await this.save();
  }
}
