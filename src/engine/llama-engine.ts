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
import { grammarSizeProblem } from "./grammar-limits.js";
import { schemaGrammar } from "../structured-output/index.js";
import { fixNodeLlamaIntegerRule } from "./integer-rule.js";
import { randomInt } from "node:crypto";
import {
  getLlama,
  GeneralChatWrapper,
  ChatMLChatWrapper,
  Llama2ChatWrapper,
  LlamaChat,
  LlamaCompletion,
  LlamaVocabularyType,
  resolveChatWrapper,
  LlamaLogLevel,
  type ChatModelFunctions,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
  type LlamaText,
  type Token,
} from "node-llama-cpp";
import type { GenerationInput, GeneratedChunk, OutputGrammar, PromptTokenLogprob, SamplingParams, ToolsRequest } from "../types.js";
import type { KvCells, ShardInfo, ShardSpec, WireDone, WireError } from "./protocol.js";
import { toChatHistory } from "./chat-history.js";
import { forcedCallSchema, functionsOf, supportsParallelCalls } from "./tools.js";
import { ForcedCallStream } from "./forced-call-stream.js";
import { AutoCallCollector } from "./auto-calls.js";
import { generateWithLogprobs } from "./logprob-generation.js";
import { scoreTokens } from "./token-scores.js";
import { bytesOf, MIN_LOGPROB } from "./logprobs.js";

/** Largest embedding context (tokens) a shard creates; a longer input is a `context_length_exceeded`. */
const EMBEDDING_CONTEXT_MAX = 2048;

/** An error with a protocol code, so the gateway can tell client mistakes from engine faults. */
export class EngineError extends Error {
  constructor(
    readonly code: WireError["code"],
    message: string,
    /** The request field at fault, for client errors. */
    readonly param?: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

/** A chat prompt rendered by the chat wrapper: its tokens and the texts/tokens that end the answer. */
interface RenderedChat {
  tokens: Token[];
  stopTriggers: LlamaText[];
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

  /** Which sequence (index into `units`) each gateway slot currently uses. */
  private readonly slotUnits: number[];
  /** Sequences with an empty KV cache, ready to take a new conversation without erasing anything. */
  private readonly emptyUnits: number[] = [];
  private disposed = false;

  private constructor(
    readonly spec: ShardSpec,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    /** `slots` sequences plus as many spares (see {@link LlamaEngine.unitFor}). */
    private readonly units: Slot[],
    private readonly chatWrapper: ChatWrapper,
  ) {
    this.slotUnits = Array.from({ length: spec.slots }, (_, i) => i);
    for (let i = spec.slots; i < units.length; i++) this.emptyUnits.push(i);
  }

  /** Loads the model and creates the context and all slots. Errors name the model and file. */
  static async load(spec: ShardSpec): Promise<LlamaEngine> {
    await fixNodeLlamaIntegerRule();
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
        // Twice the slots: a spare, empty sequence lets a new conversation start at once instead of
        // erasing a reused slot's KV cache, which waits for the context lock (see unitFor).
        sequences: spec.slots * 2,
        threads: spec.threads,
        ...(spec.batchSize === undefined ? {} : { batchSize: spec.batchSize }),
        ...(spec.adapters?.length ? { lora: { adapters: spec.adapters.map((a) => ({ filePath: a.path, scale: a.scale })) } } : {}),
      });
      const chatWrapper = pickChatWrapper(model, spec.chatWrapper);
      const slots: Slot[] = [];
      for (let i = 0; i < spec.slots * 2; i++) {
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
      const adapters = spec.adapters?.length ? ` with adapters ${spec.adapters.map((a) => `${a.name} (${a.path})`).join(", ")}` : "";
      throw new Error(
        `Failed to create a context for model '${spec.model}' (${spec.modelPath}, context ${spec.contextSize} x ${spec.slots} slots${adapters}): ${errorMessage(err)}`,
      );
    }
  }

  get info(): ShardInfo {
    return {
      contextSize: this.context.contextSize,
      trainContextSize: this.model.trainContextSize,
      slots: this.slotUnits.length,
      gpu: this.llama.gpu,
      chatWrapper: this.chatWrapper.wrapperName,
      embeddingLength: this.model.embeddingVectorSize,
      modelBytes: this.model.size,
    };
  }

  /** KV cells held by the generations running now, out of slots × context per slot (see {@link KvCells}). */
  kvCells(): KvCells {
    let used = 0;
    for (const u of this.units) if (u.busy) used += u.sequence.nextTokenIndex;
    return { used, total: this.slotUnits.length * this.units[0]!.sequence.contextSize };
  }

  /** Number of prompt tokens the input becomes after templating and tokenization. */
  countPromptTokens(input: GenerationInput): number {
    return this.promptTokens(input).length;
  }

  async generate(slotIndex: number, input: GenerationInput, params: SamplingParams, cb: GenerateCallbacks): Promise<WireDone> {
    const current = this.slotUnits[slotIndex];
    if (current === undefined) throw new EngineError("engine_error", `Slot ${slotIndex} does not exist.`);
    if (this.units[current]!.busy) throw new EngineError("engine_error", `Slot ${slotIndex} is busy.`);
    if (params.logprobs !== undefined && (params.grammar || (input.kind === "chat" && input.tools))) {
      throw new EngineError("invalid_request", "logprobs cannot be combined with response_format or tools.", "logprobs");
    }
    // Rendered once: slot choice and generation both need the prompt tokens.
    const rendered = input.kind === "chat" ? this.renderChat(input.messages, input.tools) : undefined;
    const prompt = input.kind === "chat" ? rendered!.tokens : this.completionTokens(input);
    const slot = this.unitFor(slotIndex, prompt);
    slot.busy = true;
    try {
      return await this.generateOn(slot, input, params, cb, rendered, prompt);
    } finally {
      slot.busy = false;
    }
  }

  /**
   * The sequence a slot's next generation runs on. node-llama-cpp holds the context lock for as long
   * as any sequence has a queued decode, and erasing KV cache needs that lock: a new conversation on a
   * sequence holding another one would wait for every other slot to stop. So when the prompt does not
   * extend what the sequence holds and other sequences are decoding, the slot moves to an empty spare
   * and its old sequence is cleared in the background (when the lock frees) and becomes a spare.
   */
  private unitFor(slotIndex: number, prompt: Token[]): Slot {
    const index = this.slotUnits[slotIndex]!;
    const unit = this.units[index]!;
    const held = unit.sequence.nextTokenIndex;
    if (held === 0) return unit;
    const othersDecoding = this.units.some((u) => u !== unit && u.busy);
    if (!othersDecoding || this.emptyUnits.length === 0) return unit;
    if (unit.sequence.compareContextTokens(prompt).firstDifferentIndex >= held) return unit; // pure extension: nothing to erase
    const spare = this.emptyUnits.shift()!;
    this.slotUnits[slotIndex] = spare;
    void unit.sequence.clearHistory().then(
      () => {
        if (!this.disposed) this.emptyUnits.push(index);
      },
      () => undefined,
    );
    return this.units[spare]!;
  }

  private async generateOn(
    slot: Slot,
    input: GenerationInput,
    params: SamplingParams,
    cb: GenerateCallbacks,
    rendered: RenderedChat | undefined,
    prompt: Token[],
  ): Promise<WireDone> {
    const tools = input.kind === "chat" ? input.tools : undefined;
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
    const run: Run = {
      slot,
      params,
      cb,
      maxTokens,
      prompt,
      started: performance.now(),
      firstTokenAt: 0,
      outputBefore: slot.sequence.tokenMeter.usedOutputTokens,
    };

    // `echo` with logprobs: the prompt as evaluated (BOS included when added; token prompts as given) is scored first.
    const tokenPrompt = input.kind === "completion" && input.tokens !== undefined;
    const evaluated = rendered || tokenPrompt ? prompt : this.withBos(prompt);
    const promptLogprobs = params.echo && params.logprobs !== undefined ? await this.scorePrompt(slot, evaluated, params.logprobs) : undefined;
    // Streamed first, so the prompt's echo precedes the completion's text.
    if (promptLogprobs) cb.onChunk({ text: "", tokens: 0, promptLogprobs });
    let out: Omit<WireDone, "usage" | "cachedPromptTokens" | "ttftMs" | "decodeMs"> & { completionTokens?: number };
    if (maxTokens === 0) out = { text: "", finishReason: "length", completionTokens: 0, ...(params.logprobs !== undefined ? { logprobs: [] } : {}) };
    else if (params.logprobs !== undefined || tokenPrompt) out = await this.runWithLogprobs(run, rendered, tokenPrompt);
    else if (input.kind === "chat" && tools && tools.choice !== "auto") out = await this.runForcedCall(run, rendered!, tools);
    else if (input.kind === "chat") out = await this.runChat(run, input.messages, tools);
    else out = await this.runCompletion(run);

    const finishedAt = performance.now();
    const { completionTokens, ...rest } = out;
    return {
      ...rest,
      ...(promptLogprobs ? { promptLogprobs } : {}),
      usage: { promptTokens: prompt.length, completionTokens: completionTokens ?? slot.sequence.tokenMeter.usedOutputTokens - run.outputBefore },
      cachedPromptTokens,
      ttftMs: (run.firstTokenAt || finishedAt) - run.started,
      decodeMs: run.firstTokenAt ? finishedAt - run.firstTokenAt : 0,
    };
  }

  /** Options shared by LlamaChat and LlamaCompletion; chunks are reported with the tokens they carry. */
  private commonOptions(run: Run) {
    const { params, cb } = run;
    let pendingTokens = 0;
    return {
      maxTokens: run.maxTokens,
      temperature: params.temperature,
      topP: params.topP,
      topK: params.topK,
      // Unseeded, node-llama-cpp seeds with the current second: the choices of an `n` request
      // (and any two requests in the same second) would sample alike.
      seed: params.seed ?? randomInt(2 ** 32 - 1),
      repeatPenalty: repeatPenaltyFor(params),
      signal: cb.signal,
      stopOnAbortSignal: true,
      onToken: (tokens: Token[]) => {
        if (run.firstTokenAt === 0) run.firstTokenAt = performance.now();
        pendingTokens += tokens.length;
      },
      onTextChunk: (text: string) => {
        if (run.firstTokenAt === 0) run.firstTokenAt = performance.now();
        cb.onChunk({ text, tokens: pendingTokens });
        pendingTokens = 0;
      },
    };
  }

  /** Plain chat, or `tool_choice: auto`: the template documents the tools and generation stops at a call. */
  private async runChat(run: Run, messages: ChatMessageList, tools: ToolsRequest | undefined) {
    const common = this.commonOptions(run);
    const history = toChatHistory(messages);
    // Generation is clamped to the free context above, so a shift would only hide a bug.
    const contextShift = { size: 0, strategy: "eraseFirstResponseAndKeepFirstSystem" } as const;
    const stop = { customStopTriggers: run.params.stop };
    if (!tools) {
      const grammar = run.params.grammar ? await this.grammarFor(run.params.grammar) : undefined;
      const res = await run.slot.chat.generateResponse(history, { ...common, ...stop, contextShift, ...(grammar ? { grammar } : {}) });
      this.throwIfAborted(run, res.metadata.stopReason);
      return { text: res.response, finishReason: finishOf(res.metadata.stopReason), ...stopSequenceOf(res.metadata) };
    }
    await this.checkToolSchemas(tools);
    const calls = new AutoCallCollector((fragments) => {
      if (run.firstTokenAt === 0) run.firstTokenAt = performance.now();
      run.cb.onChunk({ text: "", tokens: 0, toolCalls: fragments });
    });
    const res = await run.slot.chat.generateResponse(history, {
      ...common,
      ...stop,
      contextShift,
      functions: functionsOf(tools.tools),
      documentFunctionParams: true,
      ...(tools.parallel ? {} : { maxParallelFunctionCalls: 1 }),
      onFunctionCallParamsChunk: (chunk) => calls.onParamsChunk(chunk.callIndex, chunk.functionName, chunk.paramsChunk),
    });
    this.throwIfAborted(run, res.metadata.stopReason);
    const toolCalls = calls.finish(res.functionCalls ?? []);
    return { text: res.response, finishReason: finishOf(res.metadata.stopReason), ...(toolCalls.length ? { toolCalls } : {}), ...stopSequenceOf(res.metadata) };
  }

  /**
   * `tool_choice: required` or a named tool: the tools are documented by the chat wrapper
   * and a JSON-schema grammar forces `{"name", "arguments"}` (or an array of them).
   */
  private async runForcedCall(run: Run, rendered: RenderedChat, tools: ToolsRequest) {
    await this.checkToolSchemas(tools);
    const schema = forcedCallSchema(tools, supportsParallelCalls(this.chatWrapper));
    const grammar = await this.grammarFor({ type: "json_schema", name: "tool_call", schema }, "tools");
    const calls = new ForcedCallStream();
    const common = this.commonOptions(run);
    let pendingTokens = 0;
    const res = await run.slot.completion.generateCompletionWithMeta(this.withoutPrependedBos(rendered.tokens), {
      ...common,
      grammar,
      // The template's end-of-turn markers; `stop` strings do not cut a forced call.
      customStopTriggers: rendered.stopTriggers,
      disableContextShift: true,
      onToken: (tokens: Token[]) => {
        if (run.firstTokenAt === 0) run.firstTokenAt = performance.now();
        pendingTokens += tokens.length;
      },
      onTextChunk: (text: string) => {
        const fragments = calls.push(text);
        run.cb.onChunk({ text: "", tokens: pendingTokens, ...(fragments.length ? { toolCalls: fragments } : {}) });
        pendingTokens = 0;
      },
    });
    this.throwIfAborted(run, res.metadata.stopReason);
    return { text: "", finishReason: finishOf(res.metadata.stopReason), toolCalls: calls.calls };
  }

  private async runCompletion(run: Run) {
    const common = this.commonOptions(run);
    const grammar = run.params.grammar ? await this.grammarFor(run.params.grammar) : undefined;
    const res = await run.slot.completion.generateCompletionWithMeta(run.prompt, {
      ...common,
      customStopTriggers: run.params.stop,
      ...(grammar ? { grammar } : {}),
      disableContextShift: true,
    });
    this.throwIfAborted(run, res.metadata.stopReason);
    return { text: res.response, finishReason: finishOf(res.metadata.stopReason), ...stopSequenceOf(res.metadata) };
  }

  /** Our own decoding loop, which reads the raw distribution at every step. */
  private async runWithLogprobs(run: Run, rendered: RenderedChat | undefined, tokenPrompt = false) {
    const stopStrings = [...run.params.stop];
    const stopTokens = new Set<number>();
    for (const trigger of rendered?.stopTriggers ?? []) {
      if (trigger.values.every((v) => typeof v === "string")) stopStrings.push(trigger.toString());
      else {
        const tokens = trigger.tokenize(this.model.tokenizer);
        if (tokens.length === 1) stopTokens.add(tokens[0]!);
      }
    }
    const prompt = rendered || tokenPrompt ? run.prompt : this.withBos(run.prompt);
    const res = await generateWithLogprobs({
      sequence: run.slot.sequence,
      model: this.model,
      prompt,
      // BOS, when added here, takes one more place in the context.
      maxTokens: Math.min(run.maxTokens, run.slot.sequence.contextSize - prompt.length),
      params: run.params,
      stopStrings: stopStrings.filter((s) => s.length > 0),
      stopTokens,
      signal: run.cb.signal,
      onPiece: (piece) => run.cb.onChunk({ text: piece.text, tokens: piece.tokens, logprobs: piece.logprobs }),
    });
    run.firstTokenAt = res.firstTokenAt;
    if (res.aborted || run.cb.signal.aborted) throw new EngineError("aborted", "Generation aborted.");
    return {
      text: res.text,
      finishReason: res.finishReason,
      ...(run.params.logprobs !== undefined ? { logprobs: res.logprobs } : {}),
      completionTokens: res.completionTokens,
    };
  }

  /** A completion prompt's tokens: given ids as they are, else the text's (BOS not included). */
  private completionTokens(input: GenerationInput & { kind: "completion" }): Token[] {
    if (input.tokens === undefined) return this.model.tokenize(input.prompt, false);
    // An id outside the vocabulary would abort llama.cpp (a native exception): refused here.
    const vocabulary = this.model.fileInfo.metadata.tokenizer.ggml.tokens.length;
    const bad = input.tokens.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= vocabulary);
    if (bad >= 0) throw new EngineError("invalid_request", `prompt[${bad}] is not a token id of this model (0..${vocabulary - 1}).`, "prompt");
    return input.tokens as Token[];
  }

  /** `tokens` with the BOS LlamaCompletion would prepend, when it would. */
  private withBos(tokens: Token[]): Token[] {
    const bos = this.prependedBos();
    return bos === null ? tokens : [bos, ...tokens];
  }

  /** Each prompt token with its log probability given the ones before it (the first: null) and `top` alternatives. */
  private async scorePrompt(slot: Slot, prompt: Token[], top: number): Promise<PromptTokenLogprob[]> {
    const scores = await scoreTokens(slot.sequence, prompt, () => true, top);
    const entries: PromptTokenLogprob[] = [];
    let offset = 0;
    for (const [j, token] of prompt.entries()) {
      // Text in the context of the tokens before it (SentencePiece spacing), as the prompt's text has it.
      const text = this.model.detokenize([token], false, prompt.slice(Math.max(0, j - 8), j));
      const score = scores[j];
      const alternatives = (score?.top ?? []).map((t) => {
        const alt = this.model.detokenize([t.token], false, prompt.slice(Math.max(0, j - 8), j));
        return { token: alt, logprob: Math.max(t.logprob, MIN_LOGPROB), bytes: bytesOf(alt) };
      });
      entries.push({ token: text, logprob: score ? Math.max(score.logprob, MIN_LOGPROB) : null, bytes: bytesOf(text), offset, top: alternatives });
      offset += text.length;
    }
    return entries;
  }

  private throwIfAborted(run: Run, stopReason: string): void {
    if (run.cb.signal.aborted || stopReason === "abort") throw new EngineError("aborted", "Generation aborted.");
  }

  /**
   * node-llama-cpp's grammar builder accepts schemas it cannot express (it falls back to
   * looser rules); the gateway checks them first, and this catches what still fails to build.
   */
  private async checkToolSchemas(tools: ToolsRequest): Promise<void> {
    for (const [i, tool] of tools.tools.entries()) {
      await this.grammarFor({ type: "json_schema", name: tool.name, schema: tool.parameters }, `tools[${i}].function.parameters`);
    }
  }

  /** The BOS token LlamaCompletion prepends itself (its own rule), or null. */
  private prependedBos(): Token | null {
    const type = this.model.vocabularyType;
    if (type === LlamaVocabularyType.rwkv || type === LlamaVocabularyType.ugm) return null;
    if (type === LlamaVocabularyType.wpm || this.model.tokens.shouldPrependBosToken) return this.model.tokens.bos;
    return null;
  }

  /** A rendered chat starts with BOS already; LlamaCompletion would add a second one. */
  private withoutPrependedBos(tokens: Token[]): Token[] {
    const bos = this.prependedBos();
    return bos !== null && tokens[0] === bos ? tokens.slice(1) : tokens;
  }

  async embed(texts: string[]): Promise<{ vectors: number[][]; tokens: number }> {
    const contextSize = Math.min(this.model.trainContextSize, EMBEDDING_CONTEXT_MAX);
    this.embeddingContext ??= this.model.createEmbeddingContext({
      contextSize,
      threads: this.spec.threads,
    });
    const ctx = await this.embeddingContext;
    const vectors: number[][] = [];
    let tokens = 0;
    for (const text of texts) {
      const tokenized = this.model.tokenize(text);
      if (tokenized.length > contextSize) {
        throw new EngineError("context_length_exceeded", `Input of ${tokenized.length} tokens exceeds the embedding context.`);
      }
      tokens += tokenized.length;
      const embedding = await ctx.getEmbeddingFor(tokenized);
      vectors.push([...embedding.vector]);
    }
    return { vectors, tokens };
  }

  /** Disposal order: contexts before the model, the model before llama. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.embeddingContext) await (await this.embeddingContext).dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }


  /** A completion prompt's token ids (given ids as they are); `special`: with the BOS the model adds, when it adds one. */
  /** The text of a token-id prompt (special tokens give none); an id outside the vocabulary is refused. */
  detokenize(tokens: number[]): string {
    return this.model.detokenize(this.completionTokens({ kind: "completion", prompt: "", tokens }), false);
  }

  completionIds(input: GenerationInput & { kind: "completion" }, special: boolean): number[] {
    const tokens = this.completionTokens(input);
    return special && input.tokens === undefined ? this.withBos(tokens) : tokens;
  }

  private promptTokens(input: GenerationInput): Token[] {
    if (input.kind === "completion") return this.completionTokens(input);
    return this.renderChat(input.messages, input.tools).tokens;
  }

  /** The chat as the wrapper renders it, tools documented the wrapper's own way (as LlamaChat does). */
  private renderChat(messages: ChatMessageList, tools: ToolsRequest | undefined): RenderedChat {
    const functions: ChatModelFunctions | undefined = tools ? functionsOf(tools.tools) : undefined;
    const state = this.chatWrapper.generateContextState({
      chatHistory: toChatHistory(messages),
      ...(functions ? { availableFunctions: functions, documentFunctionParams: true } : {}),
    });
    return { tokens: state.contextText.tokenize(this.model.tokenizer), stopTriggers: state.stopGenerationTriggers };
  }

  private async grammarFor(spec: OutputGrammar, param = "response_format"): Promise<LlamaGrammar> {
    const key = JSON.stringify(spec.type === "json_object" ? spec.type : spec.schema);
    const hit = this.grammarCache.get(key);
    if (hit) return hit;
    const field = param === "response_format" ? "response_format.json_schema" : param;
    const tooBig = spec.type === "json_object" ? undefined : grammarSizeProblem(spec.schema);
    if (tooBig) throw new EngineError("invalid_grammar", `${field} is too large to compile into a grammar: ${tooBig}.`, param);
    let grammar: LlamaGrammar;
    let gbnf: string;
    try {
      // Our own GBNF (src/structured-output): node-llama-cpp's schema grammar drops ranges and patterns and lets integers take exponents.
      gbnf = spec.type === "json_object" ? "" : schemaGrammar(spec.schema).gbnf;
    } catch (err) {
      throw new EngineError("invalid_grammar", `${field} cannot be satisfied: ${errorMessage(err)}`, param);
    }
    try {
      grammar = spec.type === "json_object" ? await this.llama.getGrammarFor("json") : await this.llama.createGrammar({ grammar: gbnf });
    } catch (err) {
      throw new EngineError("engine_error", `The grammar for ${field} failed to compile: ${errorMessage(err)}`, param);
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

function repeatPenaltyFor(params: SamplingParams) {
  if (params.presencePenalty === 0 && params.frequencyPenalty === 0) return false as const;
  // penalty 1 disables llama.cpp's multiplicative penalty; OpenAI's two are additive.
  return { penalty: 1, presencePenalty: params.presencePenalty, frequencyPenalty: params.frequencyPenalty, lastTokens: 64 };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type ChatMessageList = Extract<GenerationInput, { kind: "chat" }>["messages"];

/** One generation in flight: what every run mode needs. */
interface Run {
  slot: Slot;
  params: SamplingParams;
  cb: GenerateCallbacks;
  maxTokens: number;
  prompt: Token[];
  started: number;
  firstTokenAt: number;
  /** The sequence's output-token meter before the run (usage = the difference). */
  outputBefore: number;
}

/**
 * The `stop` string that ended a generation: node-llama-cpp reports the matched custom trigger
 * (strings and tokens; a `stop` entry is always a string).
 */
function stopSequenceOf(metadata: { stopReason: string; customStopTrigger?: readonly unknown[] }): { stopSequence?: string } {
  if (metadata.stopReason !== "customStopTrigger" || !metadata.customStopTrigger) return {};
  const text = metadata.customStopTrigger.filter((p): p is string => typeof p === "string").join("");
  return text ? { stopSequence: text } : {};
}

function finishOf(stopReason: string): "stop" | "length" {
  return stopReason === "maxTokens" ? "length" : "stop";
}
