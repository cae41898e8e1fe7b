/**
 * Copy-free Identity for tfjs-backend-wasm. The stock kernel copies the whole buffer; tfjs calls
 * Identity for every `clone`, every gradient passed through unchanged and every `tf.keep`-style
 * hand-off, so a training step copies hundreds of MB for nothing. Sharing the data (with a
 * reference count, exactly as the wasm Reshape kernel and the cpu Identity kernel already do) is
 * safe because tfjs kernels never write into their inputs.
 */
import type { DataId, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

interface RefCountingBackend extends KernelBackend {
  incRef(id: DataId): void;
}

export function sharedIdentityKernel(backendName: string, stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: KernelBackend }): TensorInfo | TensorInfo[] => {
    const { x } = args.inputs;
    if (x.dtype === 'string' && stock) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    (args.backend as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: 'Identity', backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
