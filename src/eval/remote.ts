/**
 * Perplexity through an OpenAI-compatible API (`switchyard eval perplexity --url`): the same
 * sliding-window definition as the local eval ({@link perplexityWindows}), each window sent as a
 * token-id prompt to `/v1/completions` with `echo`, `logprobs: 0` and `max_tokens: 0`; the
 * echoed tokens' log probabilities are summed over the positions the window scores. The text's
 * ids (and the BOS the model adds) come from the server's `/v1/tokenize` (vLLM's `/tokenize`
 * shape; tried beside `/v1` too), so windows hold exactly the tokens a local run holds.
 */
import { perplexityOf, perplexityWindows, type PerplexityScore, type WindowOptions } from "./perplexity.js";

export interface RemotePerplexityOptions extends WindowOptions {
  /** Base URL of the API, with `/v1` (`http://host:8080/v1`). */
  url: string;
  model: string;
  apiKey?: string | undefined;
  /** Injected in tests; default global fetch. */
  fetch?: typeof fetch;
}

/** An API answer that does not fit the protocol, or an HTTP error, with the server's message. */
export class RemoteEvalError extends Error {
  override name = "RemoteEvalError";
}

interface EchoAnswer {
  choices?: Array<{ logprobs?: { token_logprobs?: Array<number | null> } | null }>;
}

/**
 * @example
 * ```ts
 * const { perplexity } = await remotePerplexity(text, { url: "http://127.0.0.1:8080/v1", model: "tiny", contextSize: 256, stride: 128 });
 * ```
 */
export async function remotePerplexity(text: string, options: RemotePerplexityOptions): Promise<PerplexityScore> {
  const base = options.url.replace(/\/+$/, "");
  const doFetch = options.fetch ?? fetch;
  const post = async <T>(url: string, body: unknown): Promise<{ status: number; json: T }> => {
    const res = await doFetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json().catch(() => ({}))) as T & { error?: { message?: string } };
    if (res.status === 404) return { status: 404, json };
    if (!res.ok) throw new RemoteEvalError(`${url} answered ${res.status}: ${json.error?.message ?? "no message"}`);
    return { status: res.status, json };
  };
  const tokenize = async (special: boolean): Promise<number[]> => {
    const body = { model: options.model, prompt: text, add_special_tokens: special };
    let answer = await post<{ tokens?: number[] }>(`${base}/tokenize`, body);
    if (answer.status === 404) answer = await post<{ tokens?: number[] }>(`${base.replace(/\/v1$/, "")}/tokenize`, body);
    if (answer.status === 404 || !Array.isArray(answer.json.tokens)) throw new RemoteEvalError(`${base}: no /tokenize endpoint answered with token ids`);
    return answer.json.tokens;
  };
  const tokens = await tokenize(false);
  const withSpecial = await tokenize(true);
  // The BOS the model adds: the one extra id in front.
  const bos = withSpecial.length === tokens.length + 1 ? withSpecial[0]! : null;
  const offset = bos === null ? 0 : 1;
  const windows = perplexityWindows(tokens.length, bos !== null, options);

  const started = performance.now();
  let nll = 0;
  let scored = 0;
  let evaluated = 0;
  for (const { begin, end, first } of windows) {
    const input = bos === null ? tokens.slice(begin, end) : [bos, ...tokens.slice(begin, end)];
    const { json } = await post<EchoAnswer>(`${base}/completions`, { model: options.model, prompt: input, echo: true, logprobs: 0, max_tokens: 0, temperature: 0 });
    const logprobs = json.choices?.[0]?.logprobs?.token_logprobs;
    if (!logprobs || logprobs.length !== input.length) {
      throw new RemoteEvalError(`${base}/completions: expected ${input.length} echoed token log probabilities, got ${logprobs?.length ?? "none"}`);
    }
    evaluated += input.length;
    for (let j = 1; j < input.length; j++) {
      if (begin + j - offset < first) continue;
      const logprob = logprobs[j];
      if (typeof logprob !== "number") throw new RemoteEvalError(`${base}/completions: no log probability for prompt token ${j}`);
      nll -= logprob;
      scored++;
    }
  }
  return perplexityOf(nll, scored, tokens.length, evaluated, performance.now() - started);
}
