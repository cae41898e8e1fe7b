/**
 * A minimal ONNX ModelProto writer: just enough protobuf to describe one-node graphs
 * (MatMul-like ops with int/float attributes and symbolic dimensions). Writing the bytes
 * ourselves avoids a dependency on `onnx`/`protobufjs` for a handful of tiny models.
 */

/** ONNX TensorProto.DataType.FLOAT */
export const ONNX_FLOAT = 1;

export interface ONNXAttribute {
  name: string;
  /** Integers are written as INT attributes, everything else as FLOAT. */
  value: number;
  kind: 'int' | 'float';
}

export interface ONNXValueInfo {
  name: string;
  /** One entry per axis: a number is a fixed size, a string a symbolic dimension. */
  dims: Array<number | string>;
}

export interface ONNXNode {
  opType: string;
  domain?: string;
  inputs: string[];
  outputs: string[];
  attributes?: ONNXAttribute[];
}

export interface ONNXGraph {
  nodes: ONNXNode[];
  inputs: ONNXValueInfo[];
  outputs: ONNXValueInfo[];
  /** opset imports, e.g. { '': 17, 'com.microsoft': 1 } */
  opsets: Record<string, number>;
}

class ProtoWriter {
  private readonly bytes: number[] = [];

  private varint(v: number): void {
    // Values here are small non-negative integers (< 2^53): plain arithmetic is exact.
    let x = v;
    while (x >= 0x80) {
      this.bytes.push((x % 0x80) | 0x80);
      x = Math.floor(x / 0x80);
    }
    this.bytes.push(x);
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  int(field: number, v: number): this {
    if (!Number.isInteger(v) || v < 0) throw new Error(`onnx-proto: only non-negative integers are supported, got ${v}`);
    this.tag(field, 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  raw(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(data.length);
    for (const x of data) this.bytes.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s));
  }

  message(field: number, build: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    build(w);
    return this.raw(field, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function writeValueInfo(w: ProtoWriter, v: ONNXValueInfo): void {
  w.string(1, v.name); // ValueInfoProto.name
  w.message(2, (type) => // ValueInfoProto.type: TypeProto
    type.message(1, (tensor) => { // TypeProto.tensor_type
      tensor.int(1, ONNX_FLOAT); // elem_type
      tensor.message(2, (shape) => { // shape: TensorShapeProto
        for (const d of v.dims) {
          shape.message(1, (dim) => { // dim
            if (typeof d === 'number') dim.int(1, d); // dim_value
            else dim.string(2, d); // dim_param
          });
        }
      });
    }),
  );
}

/** Serialises a single-graph ONNX model (IR version 8). */
export function encodeONNXModel(g: ONNXGraph): Uint8Array {
  const model = new ProtoWriter();
  model.int(1, 8); // ir_version
  for (const [domain, version] of Object.entries(g.opsets)) {
    model.message(8, (o) => { // opset_import
      if (domain !== '') o.string(1, domain);
      o.int(2, version);
    });
  }
  model.string(2, '@ofq/accel'); // producer_name
  model.message(7, (graph) => { // graph
    g.nodes.forEach((n, i) => {
      graph.message(1, (node) => {
        for (const x of n.inputs) node.string(1, x);
        for (const x of n.outputs) node.string(2, x);
        node.string(3, `n${i}`);
        node.string(4, n.opType);
        for (const a of n.attributes ?? []) {
          node.message(5, (attr) => {
            attr.string(1, a.name);
            if (a.kind === 'float') {
              attr.float(2, a.value);
              attr.int(20, 1); // AttributeType.FLOAT
            } else {
              attr.int(3, a.value);
              attr.int(20, 2); // AttributeType.INT
            }
          });
        }
        if (n.domain) node.string(7, n.domain);
      });
    });
    graph.string(2, 'g');
    for (const v of g.inputs) graph.message(11, (w) => writeValueInfo(w, v));
    for (const v of g.outputs) graph.message(12, (w) => writeValueInfo(w, v));
  });
  return model.finish();
}
