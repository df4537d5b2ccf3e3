/**
 * DNS discovery of remote shard hosts: `upstream: dns+http://shards.svc:8080/v1`
 * resolves every address of the name (a Kubernetes headless Service answers
 * with one per ready pod), keeps one remote backend per address in the
 * model's pool, and re-resolves every `refreshMs`: a new address joins, a
 * gone one drains (no new request; those running finish) and leaves.
 * A failed lookup keeps the current set (logged); an empty answer drains all.
 */
import dns from "node:dns";
import type { ModelPool } from "./model-pool.js";
import type { Backend } from "./backend.js";

/** Every address of a host name. */
export type HostResolver = (host: string) => Promise<string[]>;

/** node:dns `lookup` with `all: true` (getaddrinfo: /etc/hosts, then DNS — what a headless Service needs). */
export const systemResolver: HostResolver = async (host) => (await dns.promises.lookup(host, { all: true })).map((a) => a.address);

/** True for an `upstream` that names its hosts by DNS. */
export function isDnsUpstream(upstream: string): boolean {
  return upstream.startsWith("dns+");
}

export interface DnsDiscoveryOptions {
  /** `dns+http://host:port/path` (or `dns+https://`). */
  upstream: string;
  pool: ModelPool;
  /** Builds the backend for one resolved base URL (`http://10.0.0.7:8080/v1`) with its id. */
  backendFor: (baseUrl: string, id: string) => Backend;
  /** Model name, the prefix of backend ids (`model@10.0.0.7:8080`). */
  model: string;
  /** Default {@link systemResolver}. */
  resolver?: HostResolver;
  /** Re-resolve period (ms). */
  refreshMs: number;
  logger?: { info(fields: Record<string, unknown>, msg: string): void; warn(fields: Record<string, unknown>, msg: string): void };
}

/**
 * @example
 * ```ts
 * const discovery = new DnsDiscovery({ upstream: "dns+http://shards:8080/v1", pool, model: "m", refreshMs: 5000, backendFor });
 * await discovery.start(); // first resolution; then every refreshMs
 * discovery.dispose();
 * ```
 */
export class DnsDiscovery {
  private readonly url: URL;
  private readonly resolver: HostResolver;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private disposed = false;
  /** Backend id → its address, as last resolved. */
  private readonly current = new Map<string, string>();

  constructor(private readonly opts: DnsDiscoveryOptions) {
    this.url = new URL(opts.upstream.slice("dns+".length));
    this.resolver = opts.resolver ?? systemResolver;
  }

  /** Resolves once (the pool gets its first backends), then keeps refreshing. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.disposed || this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs);
    this.timer.unref();
  }

  /** One resolution: adds backends for new addresses, drains those of gone ones. Never throws; concurrent calls share one run. */
  refresh(): Promise<void> {
    return (this.refreshing ??= this.resolveOnce().finally(() => (this.refreshing = undefined)));
  }

  private async resolveOnce(): Promise<void> {
    let addresses: string[];
    try {
      addresses = [...new Set(await this.resolver(this.url.hostname))];
    } catch (err) {
      this.opts.logger?.warn({ model: this.opts.model, host: this.url.hostname, err: err instanceof Error ? err.message : String(err) }, "DNS discovery: lookup failed; keeping the current backends");
      return;
    }
    if (this.disposed) return;
    const wanted = new Map(addresses.map((address) => [this.idOf(address), address]));
    const joining: Array<Promise<void>> = [];
    for (const [id, address] of wanted) {
      if (this.current.has(id)) continue;
      const base = new URL(this.url.href);
      base.hostname = address.includes(":") ? `[${address}]` : address;
      this.current.set(id, address);
      const started = this.opts.pool.addBackend(this.opts.backendFor(base.href.replace(/\/+$/, ""), id));
      if (started) joining.push(started);
      this.opts.logger?.info({ model: this.opts.model, backend: id }, "DNS discovery: backend joined");
    }
    for (const id of [...this.current.keys()]) {
      if (wanted.has(id)) continue;
      this.current.delete(id);
      this.opts.logger?.info({ model: this.opts.model, backend: id }, "DNS discovery: address gone; draining its backend");
      void this.opts.pool.removeBackend(id);
    }
    await Promise.all(joining);
  }

  private idOf(address: string): string {
    const host = address.includes(":") ? `[${address}]` : address;
    return `${this.opts.model}@${host}:${this.url.port || (this.url.protocol === "https:" ? "443" : "80")}`;
  }

  /** Stops refreshing (the pool disposes the backends). Idempotent. */
  dispose(): void {
    this.disposed = true;
    clearInterval(this.timer);
  }
}
