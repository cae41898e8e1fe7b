;; PIL's 8-bit fixed-point resampling passes (Resample.c ImagingResampleHorizontal/Vertical_8bpc) in
;; WebAssembly SIMD. Weights are 22-bit fixed point (i32), sums start at 1 << 21, results are
;; (sum >> 22) clamped to [0, 255] — the same integer arithmetic as the scalar JS in pil-resize.ts.
;; Callers pad src and dst by 16 bytes: loads and stores run past a row end into bytes that are
;; either rewritten later or never read.
(module
  (memory (export "memory") 1)

  ;; out[y][xx] = sum_t src[rowFirst + y][xmin(xx) + t] * w[xx][t], for RGB (3 bytes per pixel; lane 3 is scratch)
  (func (export "horizontal")
    (param $src i32) (param $srcW i32) (param $rowFirst i32) (param $rows i32) (param $outW i32)
    (param $bounds i32) (param $weights i32) (param $ksize i32) (param $dst i32)
    (local $y i32) (local $xx i32) (local $t i32) (local $n i32) (local $p i32) (local $k i32) (local $d i32)
    (local $acc v128) (local $half v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (local.set $d (local.get $dst))
    (block $ydone (loop $yloop
      (br_if $ydone (i32.ge_u (local.get $y) (local.get $rows)))
      (local.set $xx (i32.const 0))
      (block $xdone (loop $xloop
        (br_if $xdone (i32.ge_u (local.get $xx) (local.get $outW)))
        ;; p = src + ((rowFirst + y) * srcW + xmin) * 3
        (local.set $p (i32.add (local.get $src)
          (i32.mul (i32.const 3)
            (i32.add (i32.mul (i32.add (local.get $rowFirst) (local.get $y)) (local.get $srcW))
                     (i32.load (i32.add (local.get $bounds) (i32.shl (local.get $xx) (i32.const 3))))))))
        (local.set $n (i32.load offset=4 (i32.add (local.get $bounds) (i32.shl (local.get $xx) (i32.const 3)))))
        (local.set $k (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $xx) (local.get $ksize)) (i32.const 2))))
        (local.set $acc (local.get $half))
        (local.set $t (i32.const 0))
        (block $tdone (loop $tloop
          (br_if $tdone (i32.ge_u (local.get $t) (local.get $n)))
          (local.set $acc (i32x4.add (local.get $acc)
            (i32x4.mul
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero (local.get $p))))
              (i32x4.splat (i32.load (local.get $k))))))
          (local.set $p (i32.add (local.get $p) (i32.const 3)))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $tloop)))
        (local.set $acc (i32x4.shr_s (local.get $acc) (i32.const 22)))
        (local.set $acc (i16x8.narrow_i32x4_s (local.get $acc) (local.get $acc)))
        (v128.store32_lane 0 (local.get $d) (i8x16.narrow_i16x8_u (local.get $acc) (local.get $acc)))
        (local.set $d (i32.add (local.get $d) (i32.const 3)))
        (local.set $xx (i32.add (local.get $xx) (i32.const 1)))
        (br $xloop)))
      (local.set $y (i32.add (local.get $y) (i32.const 1)))
      (br $yloop))))

  ;; out[yy][i] = sum_t src[ymin(yy) - rowShift + t][i] * w[yy][t], 16 bytes at a time across the row
  (func (export "vertical")
    (param $src i32) (param $stride i32) (param $outH i32) (param $bounds i32) (param $weights i32)
    (param $ksize i32) (param $rowShift i32) (param $dst i32)
    (local $yy i32) (local $i i32) (local $t i32) (local $n i32) (local $row i32) (local $k i32) (local $w v128) (local $v v128)
    (local $lo v128) (local $hi v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $half v128)
    (local.set $half (i32x4.splat (i32.const 2097152)))
    (block $ydone (loop $yloop
      (br_if $ydone (i32.ge_u (local.get $yy) (local.get $outH)))
      (local.set $n (i32.load offset=4 (i32.add (local.get $bounds) (i32.shl (local.get $yy) (i32.const 3)))))
      (local.set $row (i32.add (local.get $src) (i32.mul (local.get $stride)
        (i32.sub (i32.load (i32.add (local.get $bounds) (i32.shl (local.get $yy) (i32.const 3)))) (local.get $rowShift)))))
      (local.set $i (i32.const 0))
      (block $idone (loop $iloop
        (br_if $idone (i32.ge_u (local.get $i) (local.get $stride)))
        (local.set $a0 (local.get $half))
        (local.set $a1 (local.get $half))
        (local.set $a2 (local.get $half))
        (local.set $a3 (local.get $half))
        (local.set $k (i32.add (local.get $weights) (i32.shl (i32.mul (local.get $yy) (local.get $ksize)) (i32.const 2))))
        (local.set $t (i32.const 0))
        (block $tdone (loop $tloop
          (br_if $tdone (i32.ge_u (local.get $t) (local.get $n)))
          (local.set $w (i32x4.splat (i32.load (local.get $k))))
          (local.set $v (v128.load (i32.add (i32.add (local.get $row) (i32.mul (local.get $t) (local.get $stride))) (local.get $i))))
          (local.set $lo (i16x8.extend_low_i8x16_u (local.get $v)))
          (local.set $hi (i16x8.extend_high_i8x16_u (local.get $v)))
          (local.set $a0 (i32x4.add (local.get $a0) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $lo)) (local.get $w))))
          (local.set $a1 (i32x4.add (local.get $a1) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $lo)) (local.get $w))))
          (local.set $a2 (i32x4.add (local.get $a2) (i32x4.mul (i32x4.extend_low_i16x8_u (local.get $hi)) (local.get $w))))
          (local.set $a3 (i32x4.add (local.get $a3) (i32x4.mul (i32x4.extend_high_i16x8_u (local.get $hi)) (local.get $w))))
          (local.set $k (i32.add (local.get $k) (i32.const 4)))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $tloop)))
        (v128.store
          (i32.add (i32.add (local.get $dst) (i32.mul (local.get $yy) (local.get $stride))) (local.get $i))
          (i8x16.narrow_i16x8_u
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a0) (i32.const 22)) (i32x4.shr_s (local.get $a1) (i32.const 22)))
            (i16x8.narrow_i32x4_s (i32x4.shr_s (local.get $a2) (i32.const 22)) (i32x4.shr_s (local.get $a3) (i32.const 22)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $iloop)))
      (local.set $yy (i32.add (local.get $yy) (i32.const 1)))
      (br $yloop))))
)
