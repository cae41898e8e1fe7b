{
  # blas: openblas (libopenblas-dev, default) or onednn (libdnnl-dev); native/build.mjs picks it.
  "variables": { "blas%": "openblas" },
  "targets": [
    {
      "target_name": "ofq_accel_native",
      "sources": ["ofq_accel_native.cc"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["blas=='onednn'", {
          "defines": ["OFQ_USE_DNNL"],
          "libraries": ["-ldnnl", "-lgomp"]
        }, {
          "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
