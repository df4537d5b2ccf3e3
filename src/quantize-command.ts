/** `switchyard quantize in.gguf out.gguf --type q8_0|q4_0|q4_1|q5_0|q5_1|f16|f32`. */
import { parseArgs } from "node:util";
import { isQuantType, QUANT_TYPES, quantizeGguf } from "./quantize/index.js";

export const QUANTIZE_USAGE = `switchyard quantize IN.gguf OUT.gguf --type ${Object.keys(QUANT_TYPES).join("|")}
  Rewrites the weight matrices in a simple block format (norms and odd-shaped rows are kept).
  K-quants (Q4_K_M, ...) are not produced: download those ready-made.`;

export async function quantizeCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { type: { type: "string" } } });
  const [input, output] = positionals;
  if (!input || !output || !values.type) throw new Error(`usage: ${QUANTIZE_USAGE}`);
  if (!isQuantType(values.type)) throw new Error(`--type: expected one of ${Object.keys(QUANT_TYPES).join(", ")}, got '${values.type}'`);
  const result = await quantizeGguf({
    input,
    output,
    type: values.type,
    onProgress: (done, total) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} tensors`);
    },
  });
  if (process.stderr.isTTY) process.stderr.write("\n");
  if (result.requantized > 0) console.error(`warning: ${result.requantized} tensors were already quantized; quantizing twice loses more than once from F16/F32`);
  console.log(
    `${output}: ${result.converted} tensors as ${values.type}, ${result.kept} kept; ${(result.inputBytes / 2 ** 20).toFixed(2)} MiB -> ${(result.outputBytes / 2 ** 20).toFixed(2)} MiB of tensor data`,
  );
}
