/**
 * Scales a model's local shards with its load, between `minShards` and
 * `maxShards`: a shard is added when the queue has stayed deeper than
 * `queueDepth` waiting requests per ready shard for `upAfterMs` (and the host
 * has room: `canAdd`), and the newest added shard is drained and removed once
 * the load has stayed low for `idleMs`: nothing waiting, and the busy slots of
 * the whole pool at most half of what the pool would have without that shard
 * (least-loaded routing spreads even a light load over every shard, so "this
 * shard had no request" would never come). One change at a time: no decision
 * while a shard is starting or draining.
 *
 * It only reads `pool.snapshot()` and calls `pool.addBackend` / `pool.removeBackend`
 * (which drains: no new request goes to the shard, running ones finish), so a
 * scale-down never cuts a request.
 */
import type { Backend } from "./backend.js";
import type { ModelPool } from "./model-pool.js";

/** One scaling decision, for logs and metrics. */
export interface ScalingDecision {
  model: string;
  direction: "up" | "down";
  shard: string;
  /** Local shards in the pool after the change (draining ones not counted). */
  shards: number;
  reason: string;
}

export interface ShardAutoscalerOptions {
  pool: ModelPool;
  /** Builds the shard with this index (ids `model#index`); called on scale-up. */
  newShard: (index: number) => Backend;
  /** Shards never removed (the ones the pool started with count). */
  minShards: number;
  /** Shards never exceeded. */
  maxShards: number;
  /** Scale up when waiting requests per ready shard stay above this. */
  queueDepth: number;
  /** …for this long (ms). */
  upAfterMs: number;
  /** Scale down an added shard after the load stayed low (see above) for this long (ms). */
  idleMs: number;
  /** How often the pool is looked at (ms). */
  intervalMs: number;
  /** Room on the host for one more shard: `undefined` = yes, else the reason it is refused (logged once per episode). */
  canAdd?: () => string | undefined;
  onDecision?: (decision: ScalingDecision) => void;
  /** A scale-up the host refused (`canAdd`), once per sustained-queue episode. */
  onRefused?: (model: string, reason: string) => void;
  now?: () => number;
}

export class ShardAutoscaler implements AsyncDisposable {
  private timer: NodeJS.Timeout | undefined;
  /** Since when the queue has been above the threshold (undefined = it is not). */
  private pressureSince: number | undefined;
  private refusedThisEpisode = false;
  /** Since when the pool's load has been low enough to lose its newest added shard (undefined = it is not). */
  private lowSince: number | undefined;
  /** Shards this autoscaler added, newest last: the ones it may remove. */
  private readonly added: string[] = [];
  private changing: Promise<unknown> | undefined;
  private disposed = false;
  private readonly now: () => number;

  constructor(private readonly opts: ShardAutoscalerOptions) {
    if (opts.maxShards < opts.minShards) throw new RangeError(`maxShards (${opts.maxShards}) < minShards (${opts.minShards})`);
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    if (this.disposed || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** One look at the pool (the interval calls it; tests may too). Returns the change it started, if any. */
  tick(): Promise<unknown> | undefined {
    if (this.disposed || this.changing) return undefined;
    const now = this.now();
    const snap = this.opts.pool.snapshot();
    const active = snap.shards.filter((s) => s.kind === "local" && s.draining !== true);
    if (active.some((s) => s.state === "starting" || s.state === "restarting")) return undefined;
    const ready = active.filter((s) => s.state === "ready").length;

    const pressured = snap.waiting > this.opts.queueDepth * Math.max(1, ready);
    if (!pressured) {
      this.pressureSince = undefined;
      this.refusedThisEpisode = false;
    } else {
      this.pressureSince ??= now;
      if (now - this.pressureSince >= this.opts.upAfterMs && active.length < this.opts.maxShards) return this.scaleUp(snap.model, snap.waiting, active.map((s) => s.id));
      return undefined;
    }

    const candidate = [...this.added].reverse().find((id) => active.some((s) => s.id === id));
    const shard = active.find((s) => s.id === candidate);
    if (shard === undefined || active.length <= this.opts.minShards) {
      this.lowSince = undefined;
      return undefined;
    }
    const busy = active.reduce((n, s) => n + s.slotsBusy, 0);
    const capacityWithout = active.reduce((n, s) => n + s.slotsTotal, 0) - shard.slotsTotal;
    if (snap.waiting > 0 || busy > capacityWithout / 2) {
      this.lowSince = undefined;
      return undefined;
    }
    this.lowSince ??= now;
    const lowFor = now - this.lowSince;
    if (lowFor < this.opts.idleMs) return undefined;
    return this.scaleDown(snap.model, shard.id, active.length - 1, lowFor, busy);
  }

  private scaleUp(model: string, waiting: number, ids: string[]): Promise<unknown> | undefined {
    const refused = this.opts.canAdd?.();
    if (refused !== undefined) {
      if (!this.refusedThisEpisode) this.opts.onRefused?.(model, refused);
      this.refusedThisEpisode = true;
      return undefined;
    }
    let index = 0;
    while (ids.includes(`${model}#${index}`)) index++;
    const backend = this.opts.newShard(index);
    if (!this.opts.pool.addBackend(backend)) return undefined;
    this.added.push(backend.id);
    this.pressureSince = undefined;
    this.lowSince = undefined;
    this.opts.onDecision?.({ model, direction: "up", shard: backend.id, shards: ids.length + 1, reason: `${waiting} waiting for ${ids.length} shard(s)` });
    // The next decision waits until the new shard is ready (or failed): tick() skips while one is starting.
    return Promise.resolve();
  }

  private scaleDown(model: string, id: string, remaining: number, lowFor: number, busy: number): Promise<unknown> {
    this.lowSince = undefined;
    this.opts.onDecision?.({ model, direction: "down", shard: id, shards: remaining, reason: `load low for ${Math.round(lowFor)} ms (${busy} busy slot(s))` });
    const done = this.opts.pool
      .removeBackend(id)
      .catch(() => false)
      .finally(() => {
        this.changing = undefined;
        const at = this.added.indexOf(id);
        if (at !== -1) this.added.splice(at, 1);
      });
    this.changing = done;
    return done;
  }

  /** Stops looking; a drain in progress is awaited (the pool disposes its shards itself). Idempotent. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.changing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
