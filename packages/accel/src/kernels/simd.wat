;; SIMD kernels on tfjs-backend-wasm's own heap (imported memory: zero copies): fused LSQ and
;; StatsQ fake-quantization and Sum over a leading or trailing block of axes.
;; Compiled to src/kernels/simd.wasm.generated.ts by `pnpm --filter @ofq/accel build:wasm`.
;; LSQ:
;; Pointers are byte offsets into the heap; every float op is a float32 op, as in the composite:
;;   r = x/s, q = nearest(min(max(r, qn), qp)) (ties to even), y = q·s;
;;   inside = qn <= r <= qp, gIn = (dy·s)·inside, dx = gIn/s,
;;   contribution to the step gradient = dy·q − (gIn·x)/(s·s).
(module
  (import "env" "memory" (memory 1 65536))

  ;; y[i] for i < n, one step s for the whole block.
  (func (export "fwd_block") (param $x i32) (param $y i32) (param $n i32) (param $s f32) (param $qn f32) (param $qp f32)
    (local $i i32) (local $end4 i32) (local $vs v128) (local $vqn v128) (local $vqp v128) (local $off i32)
    (local.set $vs (f32x4.splat (local.get $s)))
    (local.set $vqn (f32x4.splat (local.get $qn)))
    (local.set $vqp (f32x4.splat (local.get $qp)))
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done4
      (loop $l4
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (v128.store (i32.add (local.get $y) (local.get $off))
          (f32x4.mul
            (f32x4.nearest (f32x4.min (f32x4.max
              (f32x4.div (v128.load (i32.add (local.get $x) (local.get $off))) (local.get $vs))
              (local.get $vqn)) (local.get $vqp)))
            (local.get $vs)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l4)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (f32.store (i32.add (local.get $y) (local.get $off))
          (f32.mul
            (f32.nearest (f32.min (f32.max
              (f32.div (f32.load (i32.add (local.get $x) (local.get $off))) (local.get $s))
              (local.get $qn)) (local.get $qp)))
            (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l))))

  ;; y for `rows` rows of `c` elements, step s[j] for column j.
  (func (export "fwd_channel") (param $x i32) (param $s i32) (param $y i32) (param $rows i32) (param $c i32) (param $qn f32) (param $qp f32)
    (local $r i32) (local $j i32) (local $end4 i32) (local $row i32) (local $off i32)
    (local $vs v128) (local $vqn v128) (local $vqp v128) (local $sv f32)
    (local.set $vqn (f32x4.splat (local.get $qn)))
    (local.set $vqp (f32x4.splat (local.get $qp)))
    (local.set $end4 (i32.and (local.get $c) (i32.const -4)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $c)) (i32.const 2)))
        (local.set $j (i32.const 0))
        (block $done4
          (loop $l4
            (br_if $done4 (i32.ge_u (local.get $j) (local.get $end4)))
            (local.set $vs (v128.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $off (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store (i32.add (local.get $y) (local.get $off))
              (f32x4.mul
                (f32x4.nearest (f32x4.min (f32x4.max
                  (f32x4.div (v128.load (i32.add (local.get $x) (local.get $off))) (local.get $vs))
                  (local.get $vqn)) (local.get $vqp)))
                (local.get $vs)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $l4)))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $sv (f32.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $off (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (i32.add (local.get $y) (local.get $off))
              (f32.mul
                (f32.nearest (f32.min (f32.max
                  (f32.div (f32.load (i32.add (local.get $x) (local.get $off))) (local.get $sv))
                  (local.get $qn)) (local.get $qp)))
                (local.get $sv)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; dx[i] for i < n with one step s; returns the block's step-gradient sum, accumulated in float64.
  (func (export "bwd_block") (param $dy i32) (param $x i32) (param $dx i32) (param $n i32) (param $s f32) (param $qn f32) (param $qp f32) (result f64)
    (local $i i32) (local $end4 i32) (local $off i32)
    (local $vs v128) (local $vs2 v128) (local $vqn v128) (local $vqp v128)
    (local $vx v128) (local $vd v128) (local $vr v128) (local $gin v128) (local $t v128)
    (local $acc0 v128) (local $acc1 v128)
    (local $xs f32) (local $d f32) (local $r f32) (local $g f32) (local $s2 f32) (local $sum f64)
    (local.set $s2 (f32.mul (local.get $s) (local.get $s)))
    (local.set $vs (f32x4.splat (local.get $s)))
    (local.set $vs2 (f32x4.splat (local.get $s2)))
    (local.set $vqn (f32x4.splat (local.get $qn)))
    (local.set $vqp (f32x4.splat (local.get $qp)))
    (local.set $end4 (i32.and (local.get $n) (i32.const -4)))
    (block $done4
      (loop $l4
        (br_if $done4 (i32.ge_u (local.get $i) (local.get $end4)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $vx (v128.load (i32.add (local.get $x) (local.get $off))))
        (local.set $vd (v128.load (i32.add (local.get $dy) (local.get $off))))
        (local.set $vr (f32x4.div (local.get $vx) (local.get $vs)))
        (local.set $gin (v128.and (f32x4.mul (local.get $vd) (local.get $vs))
          (v128.and (f32x4.ge (local.get $vr) (local.get $vqn)) (f32x4.le (local.get $vr) (local.get $vqp)))))
        (v128.store (i32.add (local.get $dx) (local.get $off)) (f32x4.div (local.get $gin) (local.get $vs)))
        (local.set $t (f32x4.sub
          (f32x4.mul (local.get $vd) (f32x4.nearest (f32x4.min (f32x4.max (local.get $vr) (local.get $vqn)) (local.get $vqp))))
          (f32x4.div (f32x4.mul (local.get $gin) (local.get $vx)) (local.get $vs2))))
        (local.set $acc0 (f64x2.add (local.get $acc0) (f64x2.promote_low_f32x4 (local.get $t))))
        (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $t) (local.get $t)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $l4)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $off (i32.shl (local.get $i) (i32.const 2)))
        (local.set $xs (f32.load (i32.add (local.get $x) (local.get $off))))
        (local.set $d (f32.load (i32.add (local.get $dy) (local.get $off))))
        (local.set $r (f32.div (local.get $xs) (local.get $s)))
        (local.set $g (select (f32.mul (local.get $d) (local.get $s)) (f32.const 0)
          (i32.and (f32.ge (local.get $r) (local.get $qn)) (f32.le (local.get $r) (local.get $qp)))))
        (f32.store (i32.add (local.get $dx) (local.get $off)) (f32.div (local.get $g) (local.get $s)))
        (local.set $sum (f64.add (local.get $sum) (f64.promote_f32 (f32.sub
          (f32.mul (local.get $d) (f32.nearest (f32.min (f32.max (local.get $r) (local.get $qn)) (local.get $qp))))
          (f32.div (f32.mul (local.get $g) (local.get $xs)) (local.get $s2))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (f64.add (local.get $sum)
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $acc0)) (f64x2.extract_lane 1 (local.get $acc0)))
        (f64.add (f64x2.extract_lane 0 (local.get $acc1)) (f64x2.extract_lane 1 (local.get $acc1))))))

  ;; dx for `rows` rows of `c` elements with step s[j] per column j; acc[j] (float32, zeroed by the
  ;; caller) receives column j's step-gradient sum.
  (func (export "bwd_channel") (param $dy i32) (param $x i32) (param $s i32) (param $dx i32) (param $acc i32) (param $rows i32) (param $c i32) (param $qn f32) (param $qp f32)
    (local $r i32) (local $j i32) (local $end4 i32) (local $row i32) (local $off i32) (local $soff i32)
    (local $vs v128) (local $vqn v128) (local $vqp v128)
    (local $vx v128) (local $vd v128) (local $vr v128) (local $gin v128)
    (local $sv f32) (local $xs f32) (local $d f32) (local $rs f32) (local $g f32)
    (local.set $vqn (f32x4.splat (local.get $qn)))
    (local.set $vqp (f32x4.splat (local.get $qp)))
    (local.set $end4 (i32.and (local.get $c) (i32.const -4)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $c)) (i32.const 2)))
        (local.set $j (i32.const 0))
        (block $done4
          (loop $l4
            (br_if $done4 (i32.ge_u (local.get $j) (local.get $end4)))
            (local.set $soff (i32.shl (local.get $j) (i32.const 2)))
            (local.set $vs (v128.load (i32.add (local.get $s) (local.get $soff))))
            (local.set $off (i32.add (local.get $row) (local.get $soff)))
            (local.set $vx (v128.load (i32.add (local.get $x) (local.get $off))))
            (local.set $vd (v128.load (i32.add (local.get $dy) (local.get $off))))
            (local.set $vr (f32x4.div (local.get $vx) (local.get $vs)))
            (local.set $gin (v128.and (f32x4.mul (local.get $vd) (local.get $vs))
              (v128.and (f32x4.ge (local.get $vr) (local.get $vqn)) (f32x4.le (local.get $vr) (local.get $vqp)))))
            (v128.store (i32.add (local.get $dx) (local.get $off)) (f32x4.div (local.get $gin) (local.get $vs)))
            (v128.store (i32.add (local.get $acc) (local.get $soff))
              (f32x4.add (v128.load (i32.add (local.get $acc) (local.get $soff)))
                (f32x4.sub
                  (f32x4.mul (local.get $vd) (f32x4.nearest (f32x4.min (f32x4.max (local.get $vr) (local.get $vqn)) (local.get $vqp))))
                  (f32x4.div (f32x4.mul (local.get $gin) (local.get $vx)) (f32x4.mul (local.get $vs) (local.get $vs))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $l4)))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $soff (i32.shl (local.get $j) (i32.const 2)))
            (local.set $sv (f32.load (i32.add (local.get $s) (local.get $soff))))
            (local.set $off (i32.add (local.get $row) (local.get $soff)))
            (local.set $xs (f32.load (i32.add (local.get $x) (local.get $off))))
            (local.set $d (f32.load (i32.add (local.get $dy) (local.get $off))))
            (local.set $rs (f32.div (local.get $xs) (local.get $sv)))
            (local.set $g (select (f32.mul (local.get $d) (local.get $sv)) (f32.const 0)
              (i32.and (f32.ge (local.get $rs) (local.get $qn)) (f32.le (local.get $rs) (local.get $qp)))))
            (f32.store (i32.add (local.get $dx) (local.get $off)) (f32.div (local.get $g) (local.get $sv)))
            (f32.store (i32.add (local.get $acc) (local.get $soff))
              (f32.add (f32.load (i32.add (local.get $acc) (local.get $soff)))
                (f32.sub
                  (f32.mul (local.get $d) (f32.nearest (f32.min (f32.max (local.get $rs) (local.get $qn)) (local.get $qp))))
                  (f32.div (f32.mul (local.get $g) (local.get $xs)) (f32.mul (local.get $sv) (local.get $sv))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))
;; out[c] = Σ_r x[r·cols + c] (a Sum over leading axes), accumulated row by row in float32.
  (func (export "sum_leading") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $end4 i32) (local $row i32) (local $p i32)
    (local.set $end4 (i32.and (local.get $cols) (i32.const -4)))
    (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $cols) (i32.const 2)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $done4
          (loop $l4
            (br_if $done4 (i32.ge_u (local.get $j) (local.get $end4)))
            (local.set $p (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
              (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $l4)))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $p (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (local.get $p) (f32.add (f32.load (local.get $p))
              (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; out[r] = Σ_c x[r·cols + c] (a Sum over trailing axes): four float32 lanes, then the tail.
  (func (export "sum_trailing") (param $x i32) (param $out i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $j i32) (local $end4 i32) (local $row i32) (local $acc v128) (local $s f32)
    (local.set $end4 (i32.and (local.get $cols) (i32.const -4)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $x) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $done4
          (loop $l4
            (br_if $done4 (i32.ge_u (local.get $j) (local.get $end4)))
            (local.set $acc (f32x4.add (local.get $acc) (v128.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $l4)))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $s (f32.add (local.get $s) (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $r) (i32.const 2))) (local.get $s))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; StatsQ forward for `rows` rows of `c` elements, scale s[j] for column j (every op float32, in the
  ;; composite's order): v = min(max(w/s, -1), high)·n − 0.5, k = nearest(v) (ties to even),
  ;; y = ((k + 0.5)/n)·s.
  (func (export "statsq_fwd") (param $w i32) (param $s i32) (param $y i32) (param $rows i32) (param $c i32) (param $n f32) (param $high f32)
    (local $r i32) (local $j i32) (local $end4 i32) (local $row i32) (local $off i32)
    (local $vs v128) (local $vn v128) (local $vhigh v128) (local $vlow v128) (local $vhalf v128) (local $sv f32)
    (local.set $vn (f32x4.splat (local.get $n)))
    (local.set $vhigh (f32x4.splat (local.get $high)))
    (local.set $vlow (f32x4.splat (f32.const -1)))
    (local.set $vhalf (f32x4.splat (f32.const 0.5)))
    (local.set $end4 (i32.and (local.get $c) (i32.const -4)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $c)) (i32.const 2)))
        (local.set $j (i32.const 0))
        (block $done4
          (loop $l4
            (br_if $done4 (i32.ge_u (local.get $j) (local.get $end4)))
            (local.set $vs (v128.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $off (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (v128.store (i32.add (local.get $y) (local.get $off))
              (f32x4.mul
                (f32x4.div
                  (f32x4.add
                    (f32x4.nearest (f32x4.sub
                      (f32x4.mul (f32x4.min (f32x4.max
                        (f32x4.div (v128.load (i32.add (local.get $w) (local.get $off))) (local.get $vs))
                        (local.get $vlow)) (local.get $vhigh)) (local.get $vn))
                      (local.get $vhalf)))
                    (local.get $vhalf))
                  (local.get $vn))
                (local.get $vs)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $l4)))
        (block $done
          (loop $l
            (br_if $done (i32.ge_u (local.get $j) (local.get $c)))
            (local.set $sv (f32.load (i32.add (local.get $s) (i32.shl (local.get $j) (i32.const 2)))))
            (local.set $off (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))
            (f32.store (i32.add (local.get $y) (local.get $off))
              (f32.mul
                (f32.div
                  (f32.add
                    (f32.nearest (f32.sub
                      (f32.mul (f32.min (f32.max
                        (f32.div (f32.load (i32.add (local.get $w) (local.get $off))) (local.get $sv))
                        (f32.const -1)) (local.get $high)) (local.get $n))
                      (f32.const 0.5)))
                    (f32.const 0.5))
                  (local.get $n))
                (local.get $sv)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $l)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))
)
