// @ofq/accel native engine: batched float32 matmul over OpenBLAS (cblas_sgemm) or, built with
// OFQ_USE_DNNL, oneDNN (dnnl_sgemm), called synchronously from tfjs kernels on caller-owned
// Float32Arrays (wasm-heap views or cpu arrays). Zero copies: the typed array's data pointer
// already includes its byte offset.
//
// Exports:
//   matmul(a, aShape, b, bShape, transposeA, transposeB, out)  out = op(a)·op(b), numpy batch broadcasting
//   setThreads(n), getThreads(), config()
//
// Every length is checked against its shape before any pointer is touched: a wrong call throws
// a JS Error, it never reads or writes outside the arrays.
#include <node_api.h>
#ifdef OFQ_USE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#else
#include <cblas.h>
#endif

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kMaxRank = 16;

bool Throw(napi_env env, const std::string& msg) {
  napi_throw_error(env, nullptr, msg.c_str());
  return false;
}

bool GetF32(napi_env env, napi_value v, const char* what, float** data, size_t* length) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return Throw(env, std::string("ofq-accel-native: ") + what + " must be a Float32Array");
  napi_typedarray_type type;
  void* ptr = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, &buffer, &offset) != napi_ok || type != napi_float32_array) {
    return Throw(env, std::string("ofq-accel-native: ") + what + " must be a Float32Array");
  }
  *data = static_cast<float*>(ptr);  // already advanced by the view's byteOffset
  return true;
}

bool GetShape(napi_env env, napi_value v, const char* what, std::vector<int64_t>* shape) {
  bool is_array = false;
  uint32_t n = 0;
  if (napi_is_array(env, v, &is_array) != napi_ok || !is_array || napi_get_array_length(env, v, &n) != napi_ok) {
    return Throw(env, std::string("ofq-accel-native: ") + what + " must be an array of dimensions");
  }
  if (n < 2 || n > kMaxRank) return Throw(env, std::string("ofq-accel-native: ") + what + " must have rank 2.." + std::to_string(kMaxRank));
  shape->resize(n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    double d = -1;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_double(env, e, &d) != napi_ok || !(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d)) || d > 2147483647.0) {
      return Throw(env, std::string("ofq-accel-native: ") + what + " must hold non-negative integer dimensions");
    }
    (*shape)[i] = static_cast<int64_t>(d);
  }
  return true;
}

bool GetBool(napi_env env, napi_value v, bool* out) {
  napi_status s = napi_get_value_bool(env, v, out);
  if (s != napi_ok) return Throw(env, "ofq-accel-native: transpose flags must be booleans");
  return true;
}

int64_t Product(const std::vector<int64_t>& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to; i++) p *= s[i];
  return p;
}

// One product out[m,n] = op(A)·op(B) (row-major). m, n, k > 0. Vector shapes go to sgemv
// (OpenBLAS 0.3.21's sgemm does not forward them), with the output zeroed first so stale
// heap contents (NaN) never leak through a beta = 0 scaling.
bool Gemm(bool tA, bool tB, int m, int n, int k, const float* a, const float* b, float* c) {
#ifdef OFQ_USE_DNNL
  // dnnl_sgemm is row-major; beta = 0 overwrites C.
  return dnnl_sgemm(tA ? 'T' : 'N', tB ? 'T' : 'N', m, n, k, 1.0f, a, tA ? m : k, b, tB ? k : n, 0.0f, c, n) == dnnl_success;
#else
  if (m == 1) {
    // out[1,n] = a[k] · op(B): a is a length-k vector in either layout.
    std::memset(c, 0, sizeof(float) * n);
    if (tB) cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, b, k, a, 1, 0.0f, c, 1);
    else cblas_sgemv(CblasRowMajor, CblasTrans, k, n, 1.0f, b, n, a, 1, 0.0f, c, 1);
    return true;
  }
  if (n == 1) {
    // out[m,1] = op(A) · b: b is a length-k vector in either layout.
    std::memset(c, 0, sizeof(float) * m);
    if (tA) cblas_sgemv(CblasRowMajor, CblasTrans, k, m, 1.0f, a, m, b, 1, 0.0f, c, 1);
    else cblas_sgemv(CblasRowMajor, CblasNoTrans, m, k, 1.0f, a, k, b, 1, 0.0f, c, 1);
    return true;
  }
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, tA ? m : k, b,
              tB ? k : n, 0.0f, c, n);
  return true;
#endif
}

napi_value MatMul(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 7) {
    Throw(env, "ofq-accel-native: matmul(a, aShape, b, bShape, transposeA, transposeB, out) takes 7 arguments");
    return nullptr;
  }
  float *a, *b, *out;
  size_t la, lb, lo;
  std::vector<int64_t> sa, sb;
  bool tA, tB;
  if (!GetF32(env, argv[0], "a", &a, &la) || !GetShape(env, argv[1], "aShape", &sa) || !GetF32(env, argv[2], "b", &b, &lb) ||
      !GetShape(env, argv[3], "bShape", &sb) || !GetBool(env, argv[4], &tA) || !GetBool(env, argv[5], &tB) ||
      !GetF32(env, argv[6], "out", &out, &lo)) {
    return nullptr;
  }
  const size_t ra = sa.size(), rb = sb.size();
  const int64_t m = tA ? sa[ra - 1] : sa[ra - 2];
  const int64_t ka = tA ? sa[ra - 2] : sa[ra - 1];
  const int64_t kb = tB ? sb[rb - 1] : sb[rb - 2];
  const int64_t n = tB ? sb[rb - 2] : sb[rb - 1];
  if (ka != kb) {
    Throw(env, "ofq-accel-native: inner dimensions " + std::to_string(ka) + " and " + std::to_string(kb) + " differ");
    return nullptr;
  }
  const int64_t k = ka;
  // Batch axes, right-aligned, numpy broadcasting.
  const size_t nb = (ra > rb ? ra : rb) - 2;
  int64_t dimA[kMaxRank], dimB[kMaxRank], dimO[kMaxRank];
  for (size_t i = 0; i < nb; i++) {
    const ptrdiff_t ia = static_cast<ptrdiff_t>(i) - static_cast<ptrdiff_t>(nb - (ra - 2));
    const ptrdiff_t ib = static_cast<ptrdiff_t>(i) - static_cast<ptrdiff_t>(nb - (rb - 2));
    dimA[i] = ia >= 0 ? sa[ia] : 1;
    dimB[i] = ib >= 0 ? sb[ib] : 1;
    if (dimA[i] != dimB[i] && dimA[i] != 1 && dimB[i] != 1) {
      Throw(env, "ofq-accel-native: batch dimensions " + std::to_string(dimA[i]) + " and " + std::to_string(dimB[i]) + " do not broadcast");
      return nullptr;
    }
    dimO[i] = dimA[i] == 1 ? dimB[i] : dimA[i];
  }
  const int64_t batchA = Product(sa, 0, ra - 2), batchB = Product(sb, 0, rb - 2);
  int64_t batchO = 1;
  for (size_t i = 0; i < nb; i++) batchO *= dimO[i];
  const int64_t matA = m * k, matB = k * n, matO = m * n;
  if (static_cast<int64_t>(la) < batchA * matA || static_cast<int64_t>(lb) < batchB * matB) {
    Throw(env, "ofq-accel-native: an input array is shorter than its shape");
    return nullptr;
  }
  if (static_cast<int64_t>(lo) != batchO * matO) {
    Throw(env, "ofq-accel-native: out has " + std::to_string(lo) + " elements, the product has " + std::to_string(batchO * matO));
    return nullptr;
  }
  if (batchO * matO == 0) return nullptr;
  if (k == 0) {
    std::memset(out, 0, sizeof(float) * lo);
    return nullptr;
  }
  if (m > 2147483647 || n > 2147483647 || k > 2147483647) {
    Throw(env, "ofq-accel-native: matrix dimension too large for BLAS");
    return nullptr;
  }
  // One B shared by every batch of a non-transposed, non-broadcast A: a single [batch·m, k] GEMM.
  if (batchB == 1 && !tA && batchA == batchO && batchO * m <= 2147483647) {
    if (!Gemm(false, tB, static_cast<int>(batchO * m), static_cast<int>(n), static_cast<int>(k), a, b, out)) Throw(env, "ofq-accel-native: sgemm failed");
    return nullptr;
  }
  // Element strides (in matrices) of each batch axis in a and b; 0 where broadcast.
  int64_t strideA[kMaxRank], strideB[kMaxRank];
  int64_t sA = 1, sB = 1;
  for (ptrdiff_t i = static_cast<ptrdiff_t>(nb) - 1; i >= 0; i--) {
    strideA[i] = dimA[i] == 1 ? 0 : sA;
    strideB[i] = dimB[i] == 1 ? 0 : sB;
    sA *= dimA[i];
    sB *= dimB[i];
  }
  int64_t idx[kMaxRank] = {0};
  for (int64_t o = 0; o < batchO; o++) {
    int64_t ia = 0, ib = 0;
    for (size_t i = 0; i < nb; i++) {
      ia += idx[i] * strideA[i];
      ib += idx[i] * strideB[i];
    }
    if (!Gemm(tA, tB, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), a + ia * matA, b + ib * matB, out + o * matO)) {
      Throw(env, "ofq-accel-native: sgemm failed");
      return nullptr;
    }
    for (ptrdiff_t i = static_cast<ptrdiff_t>(nb) - 1; i >= 0; i--) {
      if (++idx[i] < dimO[i]) break;
      idx[i] = 0;
    }
  }
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 1 ||
      napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    Throw(env, "ofq-accel-native: setThreads(n) needs an integer n >= 1");
    return nullptr;
  }
#ifdef OFQ_USE_DNNL
  omp_set_num_threads(n);
#else
  openblas_set_num_threads(n);
#endif
  return nullptr;
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value r;
#ifdef OFQ_USE_DNNL
  napi_create_int32(env, omp_get_max_threads(), &r);
#else
  napi_create_int32(env, openblas_get_num_threads(), &r);
#endif
  return r;
}

napi_value Config(napi_env env, napi_callback_info) {
  napi_value r;
#ifdef OFQ_USE_DNNL
  const dnnl_version_t* v = dnnl_version();
  const std::string c = "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) +
                        " (" + std::string(v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "threads") + ")";
  napi_create_string_utf8(env, c.c_str(), NAPI_AUTO_LENGTH, &r);
#else
  const char* c = openblas_get_config();
  napi_create_string_utf8(env, c ? c : "", NAPI_AUTO_LENGTH, &r);
#endif
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"config", nullptr, Config, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
