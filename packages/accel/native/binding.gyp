{
  "targets": [
    {
      "target_name": "ofq_accel_native",
      "sources": ["ofq_accel_native.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"],
      "libraries": ["-lopenblas"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
