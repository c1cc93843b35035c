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
  const { node, initializer } = memberGraph(params, '', FEATURE_SCHEMA.output.name);
  return encodeModel(
    meta,
    `omakase ranking MLP ${params.sizes.join('-')}; logit output`,
    node,
    initializer,
    params.sizes[0],
    params.sizes[params.sizes.length - 1],
  );
}

/**
 * Serialises an ensemble: each member's own standardisation and layers as a branch (names prefixed `m<k>_`)
 * reading the one input, and the output `score` is the ONNX `Mean` of the branches' logits. One member is
 * exactly `mlpToOnnx` (the same bytes). Members must share input and output widths.
 */
export function ensembleToOnnx(members: readonly MlpParams[], meta: OnnxModelMeta): Uint8Array {
  if (members.length === 0) throw new RangeError('an ensemble needs at least one member');
  if (members.length === 1) return mlpToOnnx(members[0], meta);
  const d = members[0].sizes[0];
  const outSize = members[0].sizes[members[0].sizes.length - 1];
  if (members.some((m) => m.sizes[0] !== d || m.sizes[m.sizes.length - 1] !== outSize))
    throw new RangeError('ensemble members must share input and output widths');
  const node: onnxProto.onnx.INodeProto[] = [];
  const initializer: onnxProto.onnx.ITensorProto[] = [];
  const outputs = members.map((m, k) => {
    const branch = memberGraph(m, `m${k}_`, `m${k}_score`);
    node.push(...branch.node);
    initializer.push(...branch.initializer);
    return `m${k}_score`;
  });
  node.push({ opType: 'Mean', name: 'ensemble_mean', input: outputs, output: [FEATURE_SCHEMA.output.name] });
  const shapes = [...new Set(members.map((m) => m.sizes.join('-')))].join(', ');
  return encodeModel(
    meta,
    `omakase ranking ensemble of ${members.length} MLPs ${shapes}; mean logit output`,
    node,
    initializer,
    d,
    outSize,
  );
}

/** One MLP's nodes and initializers, reading the graph input and writing `output`; names carry `prefix`. */
function memberGraph(
  params: MlpParams,
  prefix: string,
  output: string,
): { node: onnxProto.onnx.INodeProto[]; initializer: onnxProto.onnx.ITensorProto[] } {
  const inputName = FEATURE_SCHEMA.input.name;
  const d = params.sizes[0];
  const n = (name: string) => prefix + name;
  const initializer = [tensor(n('std_mean'), [d], params.mean), tensor(n('std_scale'), [d], params.std)];
  const node = [
    { opType: 'Sub', input: [inputName, n('std_mean')], output: [n('centred')], name: n('standardise_sub') },
    { opType: 'Div', input: [n('centred'), n('std_scale')], output: [n('h0')], name: n('standardise_div') },
  ] as onnxProto.onnx.INodeProto[];
  const last = params.layers.length - 1;
  params.layers.forEach((layer, l) => {
    initializer.push(tensor(n(`W${l}`), [layer.outSize, layer.inSize], layer.weights));
    initializer.push(tensor(n(`b${l}`), [layer.outSize], layer.bias));
    const gemmOut = l === last ? output : n(`z${l + 1}`);
    node.push({
      opType: 'Gemm',
      name: n(`dense${l}`),
      input: [n(`h${l}`), n(`W${l}`), n(`b${l}`)],
      output: [gemmOut],
      attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
    });
    if (l < last) {
      node.push({ opType: 'Relu', name: n(`relu${l}`), input: [n(`z${l + 1}`)], output: [n(`h${l + 1}`)] });
    }
  });
  return { node, initializer };
}

function encodeModel(
  meta: OnnxModelMeta,
  docString: string,
  node: onnxProto.onnx.INodeProto[],
  initializer: onnxProto.onnx.ITensorProto[],
  d: number,
  outSize: number,
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: meta.producer ?? 'omakase',
    producerVersion: '',
    docString,
    graph: {
      name: meta.name,
      node,
      initializer,
      input: [valueInfo(FEATURE_SCHEMA.input.name, d)],
      output: [valueInfo(FEATURE_SCHEMA.output.name, outSize)],
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
