"""PyTorch side of the @ofq/data throughput benchmark: torchvision ImageFolder + DataLoader (2 workers)
with timm 0.5.4's DeiT transforms written out in PIL (timm is not packaged for Debian; every op below is
the PIL call timm makes). Prints one JSON line: {"mode", "images", "seconds", "images_per_sec"}.

usage: python3 throughput.py <folder> <train|eval> <images> [batch] [workers]
"""
import json, math, random, sys, time
import numpy as np
import torch
from PIL import Image, ImageEnhance, ImageOps
from torchvision import datasets, transforms

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
FILL = tuple(round(255 * m) for m in MEAN)
RES = (Image.BILINEAR, Image.BICUBIC)


class RandomResizedCropAndInterpolation:
    def __init__(self, size, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)):
        self.size, self.scale, self.ratio = size, scale, ratio

    def params(self, img):
        area = img.size[0] * img.size[1]
        for _ in range(10):
            target = random.uniform(*self.scale) * area
            aspect = math.exp(random.uniform(math.log(self.ratio[0]), math.log(self.ratio[1])))
            w = int(round(math.sqrt(target * aspect)))
            h = int(round(math.sqrt(target / aspect)))
            if w <= img.size[0] and h <= img.size[1]:
                return random.randint(0, img.size[1] - h), random.randint(0, img.size[0] - w), h, w
        w, h = img.size
        in_ratio = w / h
        if in_ratio < min(self.ratio):
            h = int(round(w / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            w = int(round(h * max(self.ratio)))
        return (img.size[1] - h) // 2, (img.size[0] - w) // 2, h, w

    def __call__(self, img):
        i, j, h, w = self.params(img)
        return img.crop((j, i, j + w, i + h)).resize((self.size, self.size), random.choice(RES))


def _neg(v):
    return -v if random.random() > 0.5 else v


def _affine(img, data):
    return img.transform(img.size, Image.AFFINE, data, resample=random.choice(RES), fillcolor=FILL)


def _lut(img, fn):
    return img.point([fn(i) for i in range(256)] * 3)


def _enh(cls):
    return lambda img, m: cls(img).enhance(max(0.1, 1.0 + _neg(m / 10 * 0.9)))


OPS = [
    lambda img, m: ImageOps.autocontrast(img),
    lambda img, m: ImageOps.equalize(img),
    lambda img, m: ImageOps.invert(img),
    lambda img, m: img.rotate(_neg(m / 10 * 30), resample=random.choice(RES), fillcolor=FILL),
    lambda img, m: ImageOps.posterize(img, 4 - int(m / 10 * 4)),
    lambda img, m: ImageOps.solarize(img, 256 - int(m / 10 * 256)),
    lambda img, m: _lut(img, lambda i, a=int(m / 10 * 110): min(255, i + a) if i < 128 else i),
    _enh(ImageEnhance.Color), _enh(ImageEnhance.Contrast), _enh(ImageEnhance.Brightness), _enh(ImageEnhance.Sharpness),
    lambda img, m: _affine(img, (1, _neg(m / 10 * 0.3), 0, 0, 1, 0)),
    lambda img, m: _affine(img, (1, 0, 0, _neg(m / 10 * 0.3), 1, 0)),
    lambda img, m: _affine(img, (1, 0, _neg(m / 10 * 0.45) * img.size[0], 0, 1, 0)),
    lambda img, m: _affine(img, (1, 0, 0, 0, 1, _neg(m / 10 * 0.45) * img.size[1])),
]


class RandAugment:  # rand-m9-mstd0.5-inc1: 2 ops with replacement, p 0.5 each, magnitude N(9, 0.5) clipped
    def __call__(self, img):
        for k in np.random.choice(len(OPS), 2, replace=True):
            if random.random() > 0.5:
                continue
            img = OPS[k](img, min(10, max(0, random.gauss(9, 0.5))))
        return img


class RandomErasing:  # timm RandomErasing(0.25, mode='pixel', max_count=1) on the normalised tensor
    def __call__(self, x):
        if random.random() > 0.25:
            return x
        c, H, W = x.shape
        for _ in range(10):
            area = random.uniform(0.02, 1 / 3) * H * W
            aspect = math.exp(random.uniform(math.log(0.3), math.log(1 / 0.3)))
            h, w = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if w < W and h < H:
                t, l = random.randint(0, H - h), random.randint(0, W - w)
                x[:, t:t + h, l:l + w] = torch.empty((c, h, w)).normal_()
                break
        return x


def chain(mode):
    norm = [transforms.ToTensor(), transforms.Normalize(MEAN, STD)]
    if mode == 'eval':  # timm transforms_imagenet_eval, crop_pct 0.9
        return transforms.Compose([transforms.Resize(248, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(224), *norm])
    return transforms.Compose([RandomResizedCropAndInterpolation(224), transforms.RandomHorizontalFlip(0.5), RandAugment(), *norm, RandomErasing()])


def main():
    folder, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    torch.set_num_threads(1)
    ds = datasets.ImageFolder(folder, transform=chain(mode))
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True, persistent_workers=True)
    seen, t0, started = 0, None, time.perf_counter()
    while seen < n:
        for x, _ in loader:
            if t0 is None:  # the clock starts after the first batch (worker start-up excluded, as for JS)
                t0, first = time.perf_counter(), x.shape[0]
            seen += x.shape[0]
            if seen >= n:
                break
    secs = time.perf_counter() - t0
    print(json.dumps({'mode': mode, 'images': seen - first, 'seconds': secs, 'images_per_sec': (seen - first) / secs, 'startup_seconds': t0 - started}))


if __name__ == '__main__':
    main()
