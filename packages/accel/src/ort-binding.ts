/**
 * Loads ONNX Runtime's synchronous native binding from `onnxruntime-node`.
 *
 * Why the internal binding: the public `InferenceSession.run()` is async (a promise around a
 * synchronous native call), and tfjs kernels must be synchronous. The binding's `run()` is the
 * call underneath; it is not a public API, so we accept exactly the pinned version.
 */
import { createRequire } from 'node:module';
import { requireFromHere } from './require-from-here.js';

export const ORT_PINNED_VERSION = '1.30.0';

/** The subset of onnxruntime-common's Tensor class the binding needs. */
export interface OrtTensorCtor {
  new (type: 'float32', data: Float32Array, dims: readonly number[]): unknown;
}

export interface OrtNativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, unknown>, options: object): Record<string, unknown>;
  dispose(): void;
}

export interface OrtBinding {
  version: string;
  Tensor: OrtTensorCtor;
  createSession(model: Uint8Array, options: object): OrtNativeSession;
}

export class AccelEngineUnavailableError extends Error {
  override name = 'AccelEngineUnavailableError';
}

let cached: OrtBinding | Error | undefined;

function load(): OrtBinding {
  const req = requireFromHere();
  let pkgPath: string;
  try {
    pkgPath = req.resolve('onnxruntime-node/package.json');
  } catch {
    throw new AccelEngineUnavailableError(
      `onnxruntime engine unavailable: onnxruntime-node is not installed (npm install onnxruntime-node@${ORT_PINNED_VERSION}; ` +
        'skip its install script with onnxruntime-node-install=skip in .npmrc, it only downloads GPU providers)',
    );
  }
  const ortReq = createRequire(pkgPath);
  const version = (ortReq('./package.json') as { version: string }).version;
  if (version !== ORT_PINNED_VERSION) {
    throw new AccelEngineUnavailableError(
      `onnxruntime engine unavailable: found onnxruntime-node@${version}, but @ofq/accel uses its internal ` +
        `synchronous binding and is pinned to ${ORT_PINNED_VERSION}`,
    );
  }
  let mod: { binding: { InferenceSession: new () => OrtNativeSession }; initOrt: () => void };
  let Tensor: OrtTensorCtor;
  try {
    mod = ortReq('./dist/binding.js');
    Tensor = (ortReq('onnxruntime-common') as { Tensor: OrtTensorCtor }).Tensor;
    mod.initOrt();
  } catch (e) {
    throw new AccelEngineUnavailableError(
      `onnxruntime engine unavailable: the native binding of onnxruntime-node@${version} failed to load ` +
        `(${(e as Error).message.split('\n')[0]})`,
    );
  }
  const { InferenceSession } = mod.binding;
  return {
    version,
    Tensor,
    createSession(model, options) {
      const s = new InferenceSession();
      s.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, options);
      return s;
    },
  };
}

/** The binding, loaded once; throws AccelEngineUnavailableError (cached) when it cannot load. */
export function loadOrtBinding(): OrtBinding {
  if (cached === undefined) {
    try {
      cached = load();
    } catch (e) {
      cached = e as Error;
    }
  }
  if (cached instanceof Error) throw cached;
  return cached;
}
