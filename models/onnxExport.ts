import onnxProto from 'onnx-proto';
import { FEATURE_SCHEMA } from './featureSchema.ts';
import type { MlpParams } from './mlp.ts';

// onnx-proto is CommonJS without named-export hints, so Node's ESM loader only offers the default export.
const { onnx } = onnxProto;

/** What the exported model says about itself (stored in metadata_props). */
export interface OnnxModelMeta {
  name: string;
  version: string;
  schemaVersion: string;
  producer?: string;
}

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;
/** The symbolic batch dimension of the input and output. */
export const BATCH_DIM = 'batch';

const FLOAT = onnx.TensorProto.DataType.FLOAT;

/**
 * Serialises an MLP as an ONNX model: input `features` float32 [batch, sizes[0]], Sub/Div standardisation,
 * Gemm (transB = 1) and Relu layers, output `score` float32 [batch, outSize]. Opset 17, IR version 8.
 * It writes what the params describe; the scorer is the one that refuses a model not matching the schema.
 */
export function mlpToOnnx(params: MlpParams, meta: OnnxModelMeta): Uint8Array {
  const inputName = FEATURE_SCHEMA.input.name;
  const outputName = FEATURE_SCHEMA.output.name;
  const d = params.sizes[0];
  const outSize = params.sizes[params.sizes.length - 1];
  const initializer = [tensor('std_mean', [d], params.mean), tensor('std_scale', [d], params.std)];
  const node = [
    { opType: 'Sub', input: [inputName, 'std_mean'], output: ['centred'], name: 'standardise_sub' },
    { opType: 'Div', input: ['centred', 'std_scale'], output: ['h0'], name: 'standardise_div' },
  ] as onnxProto.onnx.INodeProto[];
  const last = params.layers.length - 1;
  params.layers.forEach((layer, l) => {
    initializer.push(tensor(`W${l}`, [layer.outSize, layer.inSize], layer.weights));
    initializer.push(tensor(`b${l}`, [layer.outSize], layer.bias));
    const gemmOut = l === last ? outputName : `z${l + 1}`;
    node.push({
      opType: 'Gemm',
      name: `dense${l}`,
      input: [`h${l}`, `W${l}`, `b${l}`],
      output: [gemmOut],
      attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
    if (l < last) {
      node.push({ opType: 'Relu', name: `relu${l}`, input: [`z${l + 1}`], output: [`h${l + 1}`] });
    }
  });
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: meta.producer ?? 'omakase',
    producerVersion: '',
    docString: `omakase ranking MLP ${params.sizes.join('-')}; logit output`,
    graph: {
      name: meta.name,
      node,
      initializer,
      input: [valueInfo(inputName, d)],
      output: [valueInfo(outputName, outSize)],
    },
    metadataProps: [
      { key: 'schema_version', value: meta.schemaVersion },
      { key: 'name', value: meta.name },
      { key: 'version', value: meta.version },
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}

function tensor(name: string, dims: number[], values: readonly number[]): onnxProto.onnx.ITensorProto {
  const f = Float32Array.from(values);
  // raw_data is little-endian float32, the same layout as a Float32Array on every platform Node supports.
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(f.buffer, f.byteOffset, f.byteLength) };
}

function valueInfo(name: string, width: number): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: BATCH_DIM }, { dimValue: width }] } } },
  };
}
