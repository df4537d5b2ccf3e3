#!/usr/bin/env node
/**
 * `switchyard serve | ingest | models | eval | quantize`.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { loadConfig, configFilePath, ConfigError, modelNames } from "./config/index.js";
import { ensureTinyLora, ensureTinyModel, type TinyModelOptions } from "./engine/tiny-model/index.js";
import { tinyModelDir } from "./engine/model-files.js";
import { evalCommand, EVAL_USAGE } from "./eval-command.js";
import { quantizeCommand, QUANTIZE_USAGE } from "./quantize-command.js";
import { KEYS_USAGE } from "./keys-usage.js";

const USAGE = `Usage: switchyard <command> [options]

Commands:
  serve                         Start the gateway (PORT, HOST, SWITCHYARD_CONFIG, ...)
  ingest <path> --collection N  Load, chunk, embed and upsert documents (md, txt, html, jsonl, csv, folders)
  index --collection N          Build the collection's ANN vector index now (--type ivf_flat|hnsw_sq|ivf_pq, --status)
  models list                   List configured models
  models make-tiny [--layers N --width N --seed N --weights q8_0|f32]   Generate the tiny test model
  models pull <hf:uri>          Download a GGUF into the models directory
  models make-tiny-lora [--rank N --seed N]   Generate the LoRA adapter matching the tiny model
  eval perplexity ...           Perplexity and speed of models on your own text:
    ${EVAL_USAGE.split("\n").join("\n    ")}
  keys revoke|restore|list      API-key revocation on every replica (through redis.url):
    ${KEYS_USAGE.split("\n").join("\n    ")}
  quantize ...                  Rewrite a GGUF's matrices in a simple block format:
    ${QUANTIZE_USAGE.split("\n").join("\n    ")}
`;

async function serve(): Promise<void> {
  const config = loadConfig();
  // Loaded here, not at the top: the other commands start without the server's and tracing's modules.
  const { startGateway } = await import("./server/index.js");
  const { startTracing, shutdownTracing } = await import("./telemetry/index.js");
  // Before the gateway: spans of the first requests need the SDK (OTLP only when OTEL_EXPORTER_OTLP_ENDPOINT is set).
  await startTracing({ serviceName: "switchyard", env: process.env });
  const gateway = await startGateway({ config, reloadConfig: () => loadConfig(), configFile: configFilePath() });
  // SIGHUP applies the config file again (refused, and logged, when it is invalid: the running config stays).
  process.on("SIGHUP", () => void gateway.reload().catch(() => undefined));
  const shutdown = (signal: string) => {
    gateway.logger.info({ signal }, "shutting down");
    gateway
      .close()
      .then(shutdownTracing)
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

async function models(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === "make-tiny") {
    const { values } = parseArgs({
      args: rest,
      options: { layers: { type: "string" }, width: { type: "string" }, seed: { type: "string" }, dir: { type: "string" }, weights: { type: "string" } },
    });
    if (values.weights !== undefined && values.weights !== "q8_0" && values.weights !== "f32") throw new Error("--weights: expected q8_0 or f32");
    const config = loadConfig();
    const opts: TinyModelOptions = {
      ...(values.layers ? { layers: Number(values.layers) } : {}),
      ...(values.width ? { width: Number(values.width) } : {}),
      ...(values.seed ? { seed: Number(values.seed) } : {}),
      ...(values.weights ? { weights: values.weights } : {}),
    };
    const file = await ensureTinyModel(values.dir ?? tinyModelDir(config.dataDir), opts);
    console.log(file);
    return;
  }
  if (sub === "make-tiny-lora") {
    const { values } = parseArgs({ args: rest, options: { rank: { type: "string" }, seed: { type: "string" }, dir: { type: "string" } } });
    const config = loadConfig();
    const file = await ensureTinyLora(values.dir ?? tinyModelDir(config.dataDir), {}, {
      ...(values.rank ? { rank: Number(values.rank) } : {}),
      ...(values.seed ? { seed: Number(values.seed) } : {}),
    });
    console.log(file);
    return;
  }
  if (sub === "pull") {
    const uri = rest[0];
    if (!uri) throw new ConfigError("models pull needs a URI, e.g. hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M");
    const config = loadConfig();
    const { resolveModelFile } = await import("node-llama-cpp");
    console.log(await resolveModelFile(uri, { directory: path.resolve(config.modelsDir), cli: true }));
    return;
  }
  const config = loadConfig();
  for (const m of config.models) {
    console.log(`${m.name}\t${m.upstream ?? m.file}\tshards=${m.shards} slots=${m.slots} ctx=${m.contextSize}${m.aliases.length ? `\taliases=${modelNames(m).slice(1).join(",")}` : ""}`);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve":
    case undefined:
      return serve();
    case "models":
      return models(rest);
    case "ingest":
      return (await import("./ingest-command.js")).ingestCommand(loadConfig(), rest);
    case "index":
      return (await import("./vector-index-command.js")).vectorIndexCommand(loadConfig(), rest);
    case "eval":
      return evalCommand(rest);
    case "quantize":
      return quantizeCommand(rest);
    case "keys":
      return (await import("./keys-command.js")).keysCommand(loadConfig(), rest);
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return;
    default:
      console.error(`Unknown command '${command}'.\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof ConfigError ? `Configuration error:\n${err.message}` : `switchyard: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
