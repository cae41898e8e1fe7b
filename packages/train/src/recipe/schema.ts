import { z } from 'zod';

/** Schedule + optimizer settings shared by every training stage (docs/algorithm.md §7.2 / §7.3). */
const stageFields = {
  /** Cosine length (t_initial); the stage runs epochs + cooldownEpochs. */
  epochs: z.number().int().positive(),
  cooldownEpochs: z.number().int().min(0).default(0),
  /** Micro-batch per step on this device. */
  batchSize: z.number().int().positive(),
  /** Target global batch; gradients are accumulated over globalBatch/batchSize micro-batches. */
  globalBatch: z.number().int().positive().optional(),
  lr: z.number().positive(),
  warmupLr: z.number().nonnegative().default(1e-6),
  warmupEpochs: z.number().int().min(0).default(0),
  minLr: z.number().nonnegative().default(1e-5),
  weightDecay: z.number().nonnegative().default(0.05),
  /** Per-step LR (fractional epoch) instead of the reference's per-epoch LR. */
  perStepLr: z.boolean().default(false),
  /** Budget cap: at most this many optimizer steps per epoch (0 = the whole epoch). */
  maxStepsPerEpoch: z.number().int().min(0).default(0),
};

const augmentation = z
  .object({
    mixup: z.number().min(0).default(0),
    cutmix: z.number().min(0).default(0),
    mixupProb: z.number().min(0).max(1).default(1),
    mixupSwitchProb: z.number().min(0).max(1).default(0.5),
    mixupMode: z.enum(['batch', 'pair', 'elem']).default('batch'),
    labelSmoothing: z.number().min(0).max(1).default(0),
    repeatedAug: z.number().int().min(0).default(0),
    randAugment: z.string().nullable().default(null),
    randomErasing: z.number().min(0).max(1).default(0),
    randomErasingMode: z.enum(['const', 'rand', 'pixel']).default('pixel'),
    randomErasingCount: z.number().int().min(0).default(1),
    hflip: z.number().min(0).max(1).default(0),
    dropRate: z.number().min(0).max(1).default(0),
    dropPath: z.number().min(0).max(1).default(0),
  })
  .strict()
  .prefault({}); // prefault: an absent block parses through the inner defaults (zod 4 .default would yield {})

export const RecipeSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    seed: z.number().int().default(42),
    data: z
      .object({
        dataset: z.enum(['mnist', 'fashion-mnist', 'idx', 'imagenet', 'folder']),
        /** Directory of the data (IDX files, or an ImageNet-format folder with train/ and val/ class folders). MNIST defaults to the embedded copy. */
        dir: z.string().nullable().default(null),
        /** Use only the first n training images (0 = all): a time budget knob. */
        trainSubset: z.number().int().min(0).default(0),
        /**
         * Held-out validation images taken from the training set for model selection.
         * 0 = select on the test split, as the reference does on ImageNet-val.
         */
        valSize: z.number().int().min(0),
        /** Evaluate on the first n test images (0 = all). */
        testSubset: z.number().int().min(0).default(0),
        /** ImageNet preprocessing: eval resize of the shorter side before the centre crop (overrides cropPct). */
        evalResize: z.number().int().positive().optional(),
        /** Image folders: the eval resize is floor(imgSize / cropPct) (timm; 0.9 in the OFQ recipes). */
        cropPct: z.number().gt(0).max(1).default(0.875),
        evalInterpolation: z.enum(['bilinear', 'bicubic']).default('bicubic'),
        /** RandomResizedCrop filter; 'random' picks bilinear or bicubic per image (timm's DeiT setting). */
        trainInterpolation: z.enum(['bilinear', 'bicubic', 'random']).default('random'),
        /** RandomResizedCrop area and log-uniform aspect ranges. */
        scale: z.tuple([z.number().gt(0).max(1), z.number().gt(0).max(1)]).default([0.08, 1]),
        ratio: z.tuple([z.number().positive(), z.number().positive()]).default([3 / 4, 4 / 3]),
        /** 'prefetcher' = OFQ's default (x - 255·mean)/(255·std); 'torchvision' = ToTensor + Normalize. */
        normalize: z.enum(['prefetcher', 'torchvision']).default('prefetcher'),
        /** Image decode/transform threads (null = one per core, 0 = on the training thread). */
        workers: z.number().int().min(0).nullable().default(null),
        /** Batches decoded ahead of the training step. */
        prefetch: z.number().int().positive().default(2),
        /** Replace unreadable images by the next readable one (counted, listed in run.json) instead of failing. */
        skipCorrupt: z.boolean().default(false),
        mean: z.array(z.number().finite()).min(1).optional(),
        /** Per-channel standard deviations: positive (pixels are divided by them). */
        std: z.array(z.number().finite().positive({ message: 'must be > 0 (pixels are divided by it)' })).min(1).optional(),
      })
      .strict(),
    model: z
      .object({
        /** Model family: 'deit' (default; timm DeiT) or 'swin' (torchvision Swin). */
        arch: z.enum(['deit', 'swin']).default('deit'),
        preset: z.enum(['deit-tiny', 'deit-small', 'deit-base', 'swin-t', 'swin-s', 'swin-b']).optional(),
        imgSize: z.number().int().positive(),
        patchSize: z.number().int().positive(),
        inChans: z.number().int().positive(),
        embedDim: z.number().int().positive(),
        /** DeiT: blocks. */
        depth: z.number().int().positive().optional(),
        /** DeiT: heads (a number); Swin: heads per stage. */
        numHeads: z.union([z.number().int().positive(), z.array(z.number().int().positive()).min(1)]),
        /** Swin: blocks per stage. */
        depths: z.array(z.number().int().positive()).min(1).optional(),
        /** Swin: window side. */
        windowSize: z.number().int().positive().optional(),
        /** Swin: stochastic depth of the last block (0 in the paper recipes). */
        stochasticDepthProb: z.number().min(0).max(0.99).optional(),
        /** Swin: recompute each residual branch in the backward pass (a W2A2-QKR Swin-T step at micro-batch 8 then peaks at 2.2 GiB RSS; without it 2 images take 3.7 GiB; one more forward of compute; same gradients). */
        gradientCheckpointing: z.boolean().optional(),
        mlpRatio: z.number().positive().default(4),
        numClasses: z.number().int().positive(),
        /** DeiT only: the distillation token and head (default true). */
        distilled: z.boolean().optional(),
      })
      .strict()
      .refine((m) => m.imgSize % m.patchSize === 0, { message: 'imgSize must be a multiple of patchSize', path: ['patchSize'] })
      .superRefine((m, ctx) => {
        const bad = (path: string, message: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
        if (m.preset && !m.preset.startsWith(m.arch)) bad('preset', `preset ${m.preset} does not belong to arch '${m.arch}'`);
        if (m.arch === 'deit') {
          if (m.depth === undefined) bad('depth', 'a DeiT needs depth (blocks)');
          if (typeof m.numHeads !== 'number') bad('numHeads', 'a DeiT takes one head count');
          else if (m.embedDim % m.numHeads !== 0) bad('numHeads', 'embedDim must be a multiple of numHeads');
          for (const k of ['depths', 'windowSize', 'stochasticDepthProb', 'gradientCheckpointing'] as const) if (m[k] !== undefined) bad(k, `${k} is a Swin field (set model.arch: swin)`);
        } else {
          if (!m.depths) bad('depths', 'a Swin needs depths (blocks per stage)');
          if (m.windowSize === undefined) bad('windowSize', 'a Swin needs windowSize');
          if (!Array.isArray(m.numHeads) || (m.depths && m.numHeads.length !== m.depths.length)) bad('numHeads', 'a Swin takes one head count per stage (as many as depths)');
          for (const k of ['depth', 'distilled'] as const) if (m[k] !== undefined) bad(k, `${k} is a DeiT field`);
          if (m.gradientCheckpointing && (m.stochasticDepthProb ?? 0) > 0) bad('gradientCheckpointing', 'gradient checkpointing recomputes each block, so it needs stochasticDepthProb 0 (stochastic depth is random)');
        }
      }),
    quant: z
      .object({
        weightBits: z.number().int().min(2).max(8),
        actBits: z.number().int().min(2).max(8),
        qkr: z.boolean().default(true),
        method: z.enum(['ofq', 'lsq']).default('ofq'),
        referenceInit: z.boolean().default(false),
        gradScaleBatch: z.number().int().positive().optional(),
        /** LSQ block weights (method lsq): 'abs' keeps every step positive via |s|; 'clamp' is the reference's max(s, 1e-5) (docs/decisions.md #19). */
        lsqStep: z.enum(['abs', 'clamp']).default('abs'),
        /** Images used by the LSQ activation-step initialisation pass. */
        initBatch: z.number().int().positive().default(64),
      })
      .strict(),
    teacher: z
      .object({
        /** FP weights (safetensors). When null the teacher is trained here with `train`. */
        weights: z.string().nullable().default(null),
        /** Names in the teacher file; default: the architecture's own ('timm' for DeiT, 'torchvision' for Swin). */
        naming: z.enum(['timm', 'torchvision', 'ofq-reference']).optional(),
        train: z.object(stageFields).strict().optional(),
      })
      .strict()
      .refine((t) => t.weights !== null || t.train !== undefined, {
        message: 'set teacher.weights (an FP safetensors file) or teacher.train (train the FP teacher here)',
        path: ['weights'],
      }),
    stage1: z.object({ ...stageFields, augmentation }).strict(),
    stage2: z
      .object({
        enabled: z.boolean().default(true),
        /** Confidence-guided annealing in stage 2; false runs the same steps at the same LR plainly (the ablation's control). */
        cga: z.boolean().default(true),
        /** CGA epochs (the reference's freeze_for_n_epochs = 30); skip CGA with `enabled: false`. */
        epochs: z.number().int().positive(),
        /** Constant LR (= stage-1 minLr in the reference, 1e-5). */
        lr: z.number().positive(),
        /** AdamW weight decay of stage 2 (default: stage1.weightDecay, as the reference). */
        weightDecay: z.number().nonnegative().optional(),
        /** Micro-batch of stage 2 (default: stage1.batchSize). */
        batchSize: z.number().int().positive().optional(),
        /** Global batch of stage 2, accumulated over micro-batches (default: stage1.globalBatch with stage 1's micro-batch). */
        globalBatch: z.number().int().positive().optional(),
        boundaryRange: z.number().positive().max(0.5).default(0.005),
        includeQK: z.boolean().default(false),
        /** Weights CGA anneals (globs over parameter names); null = the architecture's reference selection (docs/decisions.md #18). */
        select: z.array(z.string().min(1)).min(1).nullable().default(null),
        maxStepsPerEpoch: z.number().int().min(0).default(0),
      })
      .strict(),
    eval: z.object({ batchSize: z.number().int().positive().default(256) }).strict().default({} as never),
    /** Log a metrics record every n optimizer steps (1 = every step). */
    logEvery: z.number().int().positive().default(1),
  })
  .strict();

export type Recipe = z.output<typeof RecipeSchema>;
export type StageConfig = Recipe['stage1'];
