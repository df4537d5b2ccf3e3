/**
 * The one Redis connection of a gateway replica (ioredis), set up so that a
 * Redis fault can never hang a request:
 *
 * - every command has a deadline (`commandTimeoutMs`, default 50 ms);
 * - no offline queue: while disconnected a command fails at once instead of
 *   waiting for the reconnect;
 * - no per-command retries: a failed call is reported to its caller, whose
 *   outage policy decides (bypass the cache, fall back to local limits, ...);
 * - reconnects forever with a doubling backoff capped at `reconnectMaxMs`.
 *
 * Client chosen: ioredis 6 (built-in `commandTimeout`, `enableOfflineQueue`,
 * `defineCommand` with EVALSHA and automatic EVAL fallback). node-redis 5 has
 * no per-command deadline option; iovalkey is an ioredis fork with the same API
 * but a smaller user base.
 */
import { readFileSync } from "node:fs";
import { Redis, type RedisOptions } from "ioredis";

export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). */
  url: string;
  username?: string;
  /** Overrides the URL's password. */
  password?: string;
  /** TLS even with a `redis://` URL. Default false (`rediss://` turns it on). */
  tls?: boolean;
  /** PEM file of the CA that signed the server certificate. */
  tlsCaFile?: string;
  /** Prefix of every key (the helpers add it; ioredis' own keyPrefix is not used). Default `switchyard:`. */
  keyPrefix?: string;
  /** Deadline of one command in ms. Default 50. */
  commandTimeoutMs?: number;
  /** Deadline of a connection attempt in ms. Default 1000. */
  connectTimeoutMs?: number;
  /** First reconnect delay in ms; doubles per failed attempt. Default 50. */
  reconnectMinMs?: number;
  /** Longest reconnect delay in ms. Default 2000. */
  reconnectMaxMs?: number;
  /** Told about every connection state change (for logs). */
  onStatus?: (status: RedisStatus, err?: Error) => void;
}

/** `up`: ready for commands; `down`: connecting, reconnecting or closed. */
export type RedisStatus = "up" | "down";

/** Counts for `/metrics`: calls that failed (timeout, disconnected, script error) and fallbacks taken, by piece. */
export interface RedisHealth {
  up: boolean;
  /** Failed Redis calls since start, by piece (`limits`, `cache`, `flight`, ...). */
  errors: Record<string, number>;
  /** Requests served by a piece's outage policy instead of Redis, by piece. */
  fallbacks: Record<string, number>;
  /** Connection losses since start. */
  disconnects: number;
}

/**
 * Owns the ioredis client. Construct it, call {@link connect} (never throws:
 * a gateway starts with Redis down and catches up when it comes back), and
 * {@link dispose} on shutdown.
 *
 * @example
 * ```ts
 * const redis = new RedisConnection({ url: config.redis.url, commandTimeoutMs: 50 });
 * await redis.connect();
 * const value = await redis.call("cache", (r) => r.get(redis.key("cache", "e", key)));
 * await redis.dispose();
 * ```
 */
export class RedisConnection {
  readonly client: Redis;
  readonly prefix: string;
  readonly commandTimeoutMs: number;
  private readonly health: RedisHealth = { up: false, errors: {}, fallbacks: {}, disconnects: 0 };
  private disposed = false;

  constructor(options: RedisConnectionOptions) {
    const {
      url,
      keyPrefix = "switchyard:",
      commandTimeoutMs = 50,
      connectTimeoutMs = 1000,
      reconnectMinMs = 50,
      reconnectMaxMs = 2000,
      onStatus,
    } = options;
    this.prefix = keyPrefix;
    this.commandTimeoutMs = commandTimeoutMs;
    const tlsWanted = options.tls === true || url.startsWith("rediss://");
    const redisOptions = {
      lazyConnect: true,
      commandTimeout: commandTimeoutMs,
      connectTimeout: connectTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // ioredis' ready check runs INFO before "ready"; cheap, and it waits out a loading replica.
      enableReadyCheck: true,
      retryStrategy: (attempt: number) => Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(attempt - 1, 16)),
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(tlsWanted ? { tls: options.tlsCaFile ? { ca: readFileSync(options.tlsCaFile) } : {} } : {}),
    } satisfies RedisOptions;
    this.client = new Redis(url, redisOptions);
    this.client.on("ready", () => {
      this.health.up = true;
      onStatus?.("up");
    });
    this.client.on("close", () => {
      if (this.health.up) this.health.disconnects++;
      const was = this.health.up;
      this.health.up = false;
      if (was && !this.disposed) onStatus?.("down");
    });
    // Without a listener ioredis prints every connection error; the status callback reports them once per change.
    this.client.on("error", (err: Error) => {
      if (!this.health.up && !this.disposed) onStatus?.("down", err);
    });
  }

  /** Starts connecting; resolves once connected or after the first failed attempt (reconnects go on in the background). */
  async connect(): Promise<void> {
    try {
      await this.client.connect();
    } catch {
      // Reported through onStatus; the retry strategy keeps trying.
    }
  }

  /** True while the connection is ready for commands. */
  get up(): boolean {
    return this.health.up;
  }

  /** A key under this deployment's prefix: `key("limits", keyId, "rpm")` → `switchyard:limits:<keyId>:rpm`. */
  key(...parts: string[]): string {
    return this.prefix + parts.join(":");
  }

  /**
   * Runs one Redis operation for `piece`, counting a failure (which is
   * rethrown: the caller applies its outage policy). The command deadline
   * bounds it; an extra timer bounds multi-command operations the same way.
   */
  async call<T>(piece: string, op: (client: Redis) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(this.client),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`Redis call for ${piece} timed out`)), this.commandTimeoutMs * 2);
          timer.unref();
        }),
      ]);
    } catch (err) {
      this.health.errors[piece] = (this.health.errors[piece] ?? 0) + 1;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records that `piece` served a request by its outage policy. */
  fellBack(piece: string): void {
    this.health.fallbacks[piece] = (this.health.fallbacks[piece] ?? 0) + 1;
  }

  /** A copy of the health counters. */
  stats(): RedisHealth {
    return { up: this.health.up, errors: { ...this.health.errors }, fallbacks: { ...this.health.fallbacks }, disconnects: this.health.disconnects };
  }

  /** Closes the connection (pending commands fail). Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.health.up = false;
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
