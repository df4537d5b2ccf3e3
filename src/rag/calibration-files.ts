/**
 * The vector gate's measurements (vector-gate.ts) kept on disk, one small
 * JSON file per (tenant, collection), so a restarted gateway does not make
 * the first hybrid search of every collection wait for 2 × 32 probe
 * searches. A file is a hint, never the truth: one that cannot be read,
 * does not parse, or was measured with another embedder is ignored, and the
 * gate re-measures in the background when the collection's version moved.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

const scoredKeys = z.array(z.object({ key: z.string(), score: z.number() }));

const persistedSchema = z.object({
  embedderId: z.string(),
  version: z.number(),
  signal: z.number(),
  multiplier: z.number(),
  probes: z.number(),
  rankings: z.array(z.object({ target: z.string(), vector: scoredKeys, text: scoredKeys })),
});

/** A measurement as stored: the table version and embedder it was taken with, and what it found. */
export type PersistedCalibration = z.infer<typeof persistedSchema>;

/** Where measurements are kept between runs. */
export interface CalibrationStore {
  load(tenant: string, collection: string): Promise<PersistedCalibration | undefined>;
  save(tenant: string, collection: string, value: PersistedCalibration): Promise<void>;
}

/**
 * A directory of JSON files, written whole and renamed into place (a crash
 * leaves the old file or the new one).
 *
 * @example
 * ```ts
 * const files = new CalibrationFiles("/var/lib/switchyard/lancedb-calibration");
 * await files.save("acme", "kb", measured);
 * ```
 */
export class CalibrationFiles implements CalibrationStore {
  constructor(private readonly dir: string) {}

  private file(tenant: string, collection: string): string {
    return join(this.dir, `${createHash("sha256").update(`${tenant}\u0000${collection}`).digest("hex").slice(0, 32)}.json`);
  }

  async load(tenant: string, collection: string): Promise<PersistedCalibration | undefined> {
    try {
      const parsed = persistedSchema.safeParse(JSON.parse(await readFile(this.file(tenant, collection), "utf8")));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined; // absent or unreadable: measure again
    }
  }

  async save(tenant: string, collection: string, value: PersistedCalibration): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = this.file(tenant, collection);
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, JSON.stringify(value));
    await rename(temp, target);
  }
}

/** The directory beside a local LanceDB directory; none for a remote URI (`s3://…`). */
export function calibrationDirFor(uri: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? undefined : `${uri.replace(/[\\/]+$/, "")}-calibration`;
}
