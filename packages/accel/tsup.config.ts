import { libraryConfig } from '../../tsup.base';

// import.meta.url (used to resolve onnxruntime-node) must work in the CJS build too.
export default libraryConfig({ shims: true });
