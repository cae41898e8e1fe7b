import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean over the batch of −Σ target·log softmax(logits). Labels are integer class ids [B] (one-hot
 * targets), or soft targets [B, classes] (timm's SoftTargetCrossEntropy, for mixup/cutmix and smoothing).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D | tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = labels.rank === 2 ? labels : tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), -1))) as tf.Scalar;
  });
}

/**
 * Soft-target cross-entropy at T = 1: mean_batch[ −Σ_c softmax(t)_c · log_softmax(s)_c ].
 * `teacherLogits` are constants: they come from a forward pass outside any gradient tape.
 */
export function softCrossEntropy(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const target = tf.softmax(teacherLogits);
    return tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(studentLogits)), -1))) as tf.Scalar;
  });
}

/**
 * The paper's KD loss (spec §7.1, `--use-kd --kd_hard_and_soft 1`):
 * `CE(cls, y) + SoftCE(dist, teacher_cls)`, weights 1:1, T = 1. The teacher target is its class-token
 * head only. A single-head student (dist = null) uses its class logits for both terms.
 */
export function kdLoss(cls: tf.Tensor2D, dist: tf.Tensor2D | null, labels: tf.Tensor1D | tf.Tensor2D, teacherCls: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.add(crossEntropy(cls, labels), softCrossEntropy(dist ?? cls, teacherCls)));
}

/** Loss for training the FP teacher from scratch: the mean of CE on both heads (CE on cls alone if single-head). */
export function supervisedLoss(cls: tf.Tensor2D, dist: tf.Tensor2D | null, labels: tf.Tensor1D | tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const a = crossEntropy(cls, labels);
    return dist ? tf.div(tf.add(a, crossEntropy(dist, labels)), 2) : a;
  });
}
