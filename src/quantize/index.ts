export { quantizeGguf, isQuantType, ggmlTypeName, QUANT_TYPES, type QuantType, type QuantizeOptions, type QuantizeResult } from "./quantize.js";
export { readGgufLayout, readTensorData, GgufFormatError, type GgufLayout, type GgufEntry, type GgufTensorLayout } from "./gguf-reader.js";
export { encodeTensor, decodeTensor, float16BitsToFloat32 } from "./blocks.js";
