/**
 * The host-wide budget of loaded models (`loading.maxLoadedModels`, `loading.maxLoadedBytes`).
 * A pool asks for room before it starts its shards; when the budget is full the least recently
 * used idle model is unloaded first (its shards stopped cleanly: an idle model runs nothing).
 * With no idle model to evict the load waits until one becomes idle or unloads.
 */

/** What the budget needs to know of a pool (implemented by {@link ModelPool}). */
export interface BudgetedModel {
  readonly model: string;
  /** Estimated memory of the loaded model: file size × shard processes. */
  readonly loadedBytes: number;
  /** Loaded and running nothing, nobody waiting: may be evicted. */
  readonly evictable: boolean;
  /** `performance.now()` of the last request (LRU order). */
  readonly lastUsed: number;
  /** Stops the model's shards; resolves once they are stopped and {@link HostBudget.release} was called. */
  unload(reason: "idle" | "evicted"): Promise<void>;
}

export interface HostBudgetOptions {
  /** Models (pools with local shards) loaded at once; 0 = no limit. */
  maxLoadedModels: number;
  /** Sum of {@link BudgetedModel.loadedBytes} of loaded models; 0 = no limit. */
  maxLoadedBytes: number;
  /** Told about each eviction. */
  onEvict?: (evicted: string, forModel: string) => void;
}

interface Pending {
  pool: BudgetedModel;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * @example
 * ```ts
 * const budget = new HostBudget({ maxLoadedModels: 1, maxLoadedBytes: 0 });
 * await budget.admit(pool); // evicts the LRU idle model if needed
 * // ... later, once the pool's shards are stopped:
 * budget.release(pool);
 * ```
 */
export class HostBudget {
  private readonly holders = new Set<BudgetedModel>();
  private pending: Pending[] = [];
  private evicting = 0;
  private disposed = false;

  constructor(private opts: HostBudgetOptions) {}

  /** New limits (a config reload); loads waiting for room are looked at again. */
  configure(limits: Pick<HostBudgetOptions, "maxLoadedModels" | "maxLoadedBytes">): void {
    this.opts = { ...this.opts, ...limits };
    this.changed();
  }

  /** Models holding room now (loading, loaded or unloading). */
  get loaded(): string[] {
    return [...this.holders].map((m) => m.model);
  }

  /** Resolves once `model` holds room; a model already holding it resolves at once. */
  admit(model: BudgetedModel): Promise<void> {
    if (this.holders.has(model)) return Promise.resolve();
    if (this.disposed) return Promise.reject(new Error("the gateway is shutting down"));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ pool: model, resolve, reject });
      this.changed();
    });
  }

  /** `model` stopped its shards (or failed to load): its room is free. */
  release(model: BudgetedModel): void {
    if (this.holders.delete(model)) this.changed();
  }

  /** Re-examines waiting loads; pools call it when they become idle. */
  changed(): void {
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (this.fits(next.pool)) {
        this.pending.shift();
        this.holders.add(next.pool);
        next.resolve();
        continue;
      }
      // Evict one at a time: each frees room only when its shards are gone (release → changed).
      if (this.evicting > 0) return;
      const victim = [...this.holders].filter((m) => m.evictable).sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (!victim) return; // every loaded model is busy: wait for one to become idle
      this.evicting++;
      this.opts.onEvict?.(victim.model, next.pool.model);
      void victim.unload("evicted").finally(() => {
        this.evicting--;
        this.changed();
      });
      return;
    }
  }

  private fits(model: BudgetedModel): boolean {
    const { maxLoadedModels, maxLoadedBytes } = this.opts;
    if (maxLoadedModels > 0 && this.holders.size + 1 > maxLoadedModels) return false;
    if (maxLoadedBytes > 0 && this.holders.size > 0) {
      let bytes = model.loadedBytes;
      for (const m of this.holders) bytes += m.loadedBytes;
      if (bytes > maxLoadedBytes) return false;
    }
    return true;
  }

  /** Fails waiting loads (shutdown). */
  dispose(): void {
    this.disposed = true;
    for (const p of this.pending.splice(0)) p.reject(new Error("the gateway is shutting down"));
  }
}
