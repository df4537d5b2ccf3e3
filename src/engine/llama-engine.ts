/**
 * The model side of a shard: one node-llama-cpp `Llama`, one model, one context
 * whose sequences are the shard's slots. Lives inside the shard process; the
 * gateway never imports it (it talks to it through {@link ./protocol.ts}).
 *
 * Sequences are created once and kept: after `sequence.dispose()` a slot comes
 * back asynchronously, and re-acquiring it at once fails ("No sequences left").
 * Keeping them also keeps each slot's KV cache, which is what makes prefix reuse
 * work: LlamaChat only evaluates the tokens after the longest common prefix.
 */
import {
  getLlama,
  GeneralChatWrapper,
  ChatMLChatWrapper,
  Llama2ChatWrapper,
  LlamaChat,
  LlamaCompletion,
  resolveChatWrapper,
  LlamaLogLevel,
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import type { ChatMessage, GenerationInput, GeneratedChunk, OutputGrammar, SamplingParams } from "../types.js";
import type { ShardInfo, ShardSpec, WireDone, WireError } from "./protocol.js";

/** An error with a protocol code, so the gateway can tell client mistakes from engine faults. */
export class EngineError extends Error {
  constructor(
    readonly code: WireError["code"],
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

interface Slot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  completion: LlamaCompletion;
  busy: boolean;
}

export interface GenerateCallbacks {
  onChunk: (chunk: GeneratedChunk) => void;
  signal: AbortSignal;
}

export class LlamaEngine {
  private grammarCache = new Map<string, LlamaGrammar>();
  private embeddingContext: Promise<LlamaEmbeddingContext> | undefined;

  private constructor(
    readonly spec: ShardSpec,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly slots: Slot[],
    private readonly chatWrapper: ChatWrapper,
  ) {}

  /** Loads the model and creates the context and all slots. Errors name the model and file. */
  static async load(spec: ShardSpec): Promise<LlamaEngine> {
    const llama = await getLlama({ gpu: spec.gpu, build: "never", logLevel: LlamaLogLevel.error });
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath: spec.modelPath, gpuLayers: spec.gpuLayers });
    } catch (err) {
      await llama.dispose();
      throw new Error(`Failed to load model '${spec.model}' from ${spec.modelPath}: ${errorMessage(err)}`);
    }
    try {
      const context = await model.createContext({
        contextSize: spec.contextSize,
        sequences: spec.slots,
        threads: spec.threads,
        ...(spec.batchSize === undefined ? {} : { batchSize: spec.batchSize }),
      });
      const chatWrapper = pickChatWrapper(model, spec.chatWrapper);
      const slots: Slot[] = [];
      for (let i = 0; i < spec.slots; i++) {
        const sequence = context.getSequence();
        slots.push({
          sequence,
          chat: new LlamaChat({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false }),
          completion: new LlamaCompletion({ contextSequence: sequence, autoDisposeSequence: false }),
          busy: false,
        });
      }
      return new LlamaEngine(spec, llama, model, context, slots, chatWrapper);
    } catch (err) {
      await model.dispose();
      await llama.dispose();
      throw new Error(
        `Failed to create a context for model '${spec.model}' (${spec.modelPath}, context ${spec.contextSize} x ${spec.slots} slots): ${errorMessage(err)}`,
      );
    }
  }

  get info(): ShardInfo {
    return {
      contextSize: this.context.contextSize,
      trainContextSize: this.model.trainContextSize,
      slots: this.slots.length,
      gpu: this.llama.gpu,
      chatWrapper: this.chatWrapper.wrapperName,
      embeddingLength: this.model.embeddingVectorSize,
      modelBytes: this.model.size,
    };
  }

  /** Number of prompt tokens the input becomes after templating and tokenization. */
  countPromptTokens(input: GenerationInput): number {
    return this.promptTokens(input).length;
  }

  async generate(slotIndex: number, input: GenerationInput, params: SamplingParams, cb: GenerateCallbacks): Promise<WireDone> {
    const slot = this.slots[slotIndex];
    if (!slot) throw new EngineError("engine_error", `Slot ${slotIndex} does not exist.`);
    if (slot.busy) throw new EngineError("engine_error", `Slot ${slotIndex} is busy.`);
    slot.busy = true;
    try {
      return await this.generateOn(slot, input, params, cb);
    } finally {
      slot.busy = false;
    }
  }

  private async generateOn(slot: Slot, input: GenerationInput, params: SamplingParams, cb: GenerateCallbacks): Promise<WireDone> {
    const prompt = this.promptTokens(input);
    const contextSize = slot.sequence.contextSize;
    if (prompt.length >= contextSize) {
      throw new EngineError(
        "context_length_exceeded",
        `This model's maximum context length is ${contextSize} tokens. However, your messages resulted in ${prompt.length} tokens.`,
      );
    }
    // Clamp so generation never needs a context shift: a shifted context silently drops history.
    const maxTokens = Math.min(params.maxTokens, contextSize - prompt.length);
    const cachedPromptTokens = slot.sequence.compareContextTokens(prompt).firstDifferentIndex;
    const grammar = params.grammar ? await this.grammarFor(params.grammar) : undefined;

    const outputBefore = slot.sequence.tokenMeter.usedOutputTokens;
    const started = performance.now();
    let firstTokenAt = 0;
    let pendingTokens = 0;
    const common = {
      maxTokens,
      temperature: params.temperature,
      topP: params.topP,
      topK: params.topK,
      ...(params.seed === undefined ? {} : { seed: params.seed }),
      repeatPenalty: repeatPenaltyFor(params),
      customStopTriggers: params.stop,
      ...(grammar ? { grammar } : {}),
      signal: cb.signal,
      stopOnAbortSignal: true,
      onToken: (tokens: Token[]) => {
        if (firstTokenAt === 0) firstTokenAt = performance.now();
        pendingTokens += tokens.length;
      },
      onTextChunk: (text: string) => {
        if (firstTokenAt === 0) firstTokenAt = performance.now();
        cb.onChunk({ text, tokens: pendingTokens });
        pendingTokens = 0;
      },
    };

    let text: string;
    let stopReason: string;
    if (input.kind === "chat") {
      const res = await slot.chat.generateResponse(toChatHistory(input.messages), {
        ...common,
        // Generation is clamped to the free context above, so a shift would only hide a bug.
        contextShift: { size: 0, strategy: "eraseFirstResponseAndKeepFirstSystem" },
      });
      text = res.response;
      stopReason = res.metadata.stopReason;
    } else {
      const res = await slot.completion.generateCompletionWithMeta(prompt, { ...common, disableContextShift: true });
      text = res.response;
      stopReason = res.metadata.stopReason;
    }
    if (cb.signal.aborted || stopReason === "abort") throw new EngineError("aborted", "Generation aborted.");
    const finishedAt = performance.now();
    return {
      text,
      finishReason: stopReason === "maxTokens" ? "length" : "stop",
      usage: { promptTokens: prompt.length, completionTokens: slot.sequence.tokenMeter.usedOutputTokens - outputBefore },
      cachedPromptTokens,
      ttftMs: (firstTokenAt || finishedAt) - started,
      decodeMs: firstTokenAt ? finishedAt - firstTokenAt : 0,
    };
  }

  async embed(texts: string[]): Promise<{ vectors: number[][]; tokens: number }> {
    this.embeddingContext ??= this.model.createEmbeddingContext({
      contextSize: Math.min(this.model.trainContextSize, 2048),
      threads: this.spec.threads,
    });
    const ctx = await this.embeddingContext;
    const vectors: number[][] = [];
    let tokens = 0;
    for (const text of texts) {
      const tokenized = this.model.tokenize(text);
      if (tokenized.length > ctx.model.trainContextSize) {
        throw new EngineError("context_length_exceeded", `Input of ${tokenized.length} tokens exceeds the embedding context.`);
      }
      tokens += tokenized.length;
      const embedding = await ctx.getEmbeddingFor(tokenized);
      vectors.push([...embedding.vector]);
    }
    return { vectors, tokens };
  }

  /** Disposal order: contexts before the model, the model before llama. */
  async dispose(): Promise<void> {
    if (this.embeddingContext) await (await this.embeddingContext).dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  private promptTokens(input: GenerationInput): Token[] {
    if (input.kind === "completion") return this.model.tokenize(input.prompt, false);
    const history = toChatHistory(input.messages);
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(this.model.tokenizer);
  }

  private async grammarFor(spec: OutputGrammar): Promise<LlamaGrammar> {
    const key = JSON.stringify(spec.type === "json_object" ? spec.type : spec.schema);
    const hit = this.grammarCache.get(key);
    if (hit) return hit;
    let grammar: LlamaGrammar;
    try {
      grammar =
        spec.type === "json_object"
          ? await this.llama.getGrammarFor("json")
          : // The schema was validated as an object; node-llama-cpp rejects what it cannot express.
            await this.llama.createGrammarForJsonSchema(spec.schema as Parameters<Llama["createGrammarForJsonSchema"]>[0]);
    } catch (err) {
      throw new EngineError("invalid_grammar", `response_format.json_schema is not supported: ${errorMessage(err)}`);
    }
    if (this.grammarCache.size > 64) this.grammarCache.clear();
    this.grammarCache.set(key, grammar);
    return grammar;
  }
}

function pickChatWrapper(model: LlamaModel, choice: ShardSpec["chatWrapper"]): ChatWrapper {
  switch (choice) {
    case "general":
      return new GeneralChatWrapper();
    case "chatml":
      return new ChatMLChatWrapper();
    case "llama2":
      return new Llama2ChatWrapper();
    case "auto": {
      // Without a template, name-based guesses (e.g. Llama 2 for any "llama") mislead more than they help.
      if (typeof model.fileInfo.metadata.tokenizer?.chat_template !== "string") return new GeneralChatWrapper();
      return resolveChatWrapper(model, { fallbackToOtherWrappersOnJinjaError: true, warningLogs: false });
    }
  }
}

/**
 * OpenAI messages → node-llama-cpp history. A trailing empty model turn makes the
 * model answer as a new assistant message even when the client's list ends with one.
 */
export function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    if (m.role === "system" || m.role === "developer") history.push({ type: "system", text: m.content });
    else if (m.role === "assistant") history.push({ type: "model", response: [m.content] });
    else if (m.role === "tool") history.push({ type: "user", text: `Tool result${m.toolCallId ? ` (${m.toolCallId})` : ""}:\n${m.content}` });
    else history.push({ type: "user", text: m.content });
  }
  history.push({ type: "model", response: [] });
  return history;
}

function repeatPenaltyFor(params: SamplingParams) {
  if (params.presencePenalty === 0 && params.frequencyPenalty === 0) return false as const;
  // penalty 1 disables llama.cpp's multiplicative penalty; OpenAI's two are additive.
  return { penalty: 1, presencePenalty: params.presencePenalty, frequencyPenalty: params.frequencyPenalty, lastTokens: 64 };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
