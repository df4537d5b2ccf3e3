/**
 * Entry point of a shard process (forked by {@link ./shard-process.ts}).
 * Owns one {@link LlamaEngine}; speaks the IPC protocol of {@link ./protocol.ts}.
 */
import type { ChildMessage, ParentMessage } from "./protocol.js";
import { EngineError, LlamaEngine } from "./llama-engine.js";

let engine: LlamaEngine | undefined;
const running = new Map<number, AbortController>();

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

function fail(id: number, err: unknown): void {
  if (err instanceof EngineError) send({ type: "error", id, error: { code: err.code, message: err.message, ...(err.param ? { param: err.param } : {}) } });
  else send({ type: "error", id, error: { code: "engine_error", message: err instanceof Error ? err.message : String(err) } });
}

async function onMessage(msg: ParentMessage): Promise<void> {
  switch (msg.type) {
    case "init":
      try {
        engine = await LlamaEngine.load(msg.spec);
        send({ type: "ready", info: engine.info });
      } catch (err) {
        send({ type: "fatal", message: err instanceof Error ? err.message : String(err) });
        process.exitCode = 1;
        process.disconnect?.();
      }
      return;
    case "generate": {
      if (!engine) return fail(msg.id, new EngineError("engine_error", "Shard is not loaded."));
      const controller = new AbortController();
      running.set(msg.id, controller);
      try {
        const result = await engine.generate(msg.slot, msg.request.input, msg.request.params, {
          signal: controller.signal,
          onChunk: (chunk) => send({ type: "chunk", id: msg.id, ...chunk }),
        });
        send({ type: "done", id: msg.id, result });
      } catch (err) {
        // node-llama-cpp throws a plain AbortError when the abort lands during prompt evaluation.
        fail(msg.id, controller.signal.aborted ? new EngineError("aborted", "Generation aborted.") : err);
      } finally {
        running.delete(msg.id);
      }
      return;
    }
    case "abort":
      running.get(msg.id)?.abort();
      return;
    case "embed":
      if (!engine) return fail(msg.id, new EngineError("engine_error", "Shard is not loaded."));
      try {
        const { vectors, tokens } = await engine.embed(msg.input);
        send({ type: "embedded", id: msg.id, vectors, tokens });
      } catch (err) {
        fail(msg.id, err);
      }
      return;
    case "tokenize":
      if (!engine) return fail(msg.id, new EngineError("engine_error", "Shard is not loaded."));
      try {
        if (msg.ids && msg.input.kind === "completion") {
          const ids = engine.completionIds(msg.input, msg.ids === "special");
          send({ type: "tokenized", id: msg.id, tokens: ids.length, ids });
        } else send({ type: "tokenized", id: msg.id, tokens: engine.countPromptTokens(msg.input) });
      } catch (err) {
        fail(msg.id, err);
      }
      return;
    case "detokenize":
      if (!engine) return fail(msg.id, new EngineError("engine_error", "Shard is not loaded."));
      try {
        send({ type: "detokenized", id: msg.id, text: engine.detokenize(msg.tokens) });
      } catch (err) {
        fail(msg.id, err);
      }
      return;
    case "ping":
      send({ type: "pong", seq: msg.seq, kv: engine?.kvCells() ?? { used: 0, total: 0 } });
      return;
    case "shutdown":
      for (const c of running.values()) c.abort();
      await engine?.dispose();
      engine = undefined;
      process.disconnect?.();
      return;
  }
}

process.on("message", (msg: ParentMessage) => {
  void onMessage(msg);
});
// The gateway is gone: nobody can use our output, so do not linger holding memory.
process.on("disconnect", () => {
  setTimeout(() => process.exit(process.exitCode ?? 0), 50).unref();
});
