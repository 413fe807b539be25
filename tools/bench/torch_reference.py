#!/usr/bin/python3
"""The PyTorch reference for `infomax bench`: the same models, objectives and
batch as experiments/fashion_mnist_dim.yaml (the TensorFlow reference: 28x28x1, batch 128,
global + local + prior, JSD) and experiments/cifar10_dim.yaml (the PyTorch reference:
32x32x3, batch 64), timed the same way (median step after a warm-up).

Needs Debian's python3-torch; give it a real BLAS (libopenblas0-pthread:
Debian's default libblas is the slow reference one). Prints one JSON object.

  /usr/bin/python3 tools/bench/torch_reference.py --model small_conv28 --threads 2 --steps 20
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(sizes, batch_norm=False):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i + 1 < len(sizes) - 1:
            if batch_norm:
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def conv1x1_mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Conv2d(sizes[i], sizes[i + 1], 1))
        if i + 1 < len(sizes) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SmallConv28(nn.Module):
    """conv 6x6/5 32, 1x1 convs 64-128-256 (M 5x5x256), fc 256, y 32."""
    shape, batch, y_dim = (1, 28, 28), 128, 32

    def __init__(self):
        super().__init__()
        self.local = nn.Sequential(nn.Conv2d(1, 32, 6, 5), nn.ReLU(), nn.Conv2d(32, 64, 1), nn.ReLU(),
                                   nn.Conv2d(64, 128, 1), nn.ReLU(), nn.Conv2d(128, 256, 1), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6400, 256), nn.ReLU(), nn.Linear(256, 32))
        self.global_d = mlp([6400 + 32, 128, 16, 1])
        self.local_d = conv1x1_mlp([256 + 32, 128, 64, 32, 16, 1])
        self.prior_d = mlp([32, 32, 200, 1], batch_norm=True)

    def global_score(self, m, y):
        return self.global_d(torch.cat([m.flatten(1), y], 1))


class BnConv32(nn.Module):
    """4x4 convs 64-128(BN, M 26x26x128)-256(BN)-512(BN), fc y 64."""
    shape, batch, y_dim = (3, 32, 32), 64, 64

    def __init__(self):
        super().__init__()
        self.local = nn.Sequential(nn.Conv2d(3, 64, 4), nn.ReLU(), nn.Conv2d(64, 128, 4), nn.BatchNorm2d(128), nn.ReLU())
        self.head = nn.Sequential(nn.Conv2d(128, 256, 4), nn.BatchNorm2d(256), nn.ReLU(), nn.Conv2d(256, 512, 4),
                                  nn.BatchNorm2d(512), nn.ReLU(), nn.Flatten(), nn.Linear(512 * 20 * 20, 64))
        self.global_convs = nn.Sequential(nn.Conv2d(128, 64, 3), nn.ReLU(), nn.Conv2d(64, 32, 3))
        self.global_d = mlp([32 * 22 * 22 + 64, 512, 512, 1])
        self.local_d = conv1x1_mlp([128 + 64, 512, 512, 1])
        self.prior_d = mlp([64, 1000, 200, 1])

    def global_score(self, m, y):
        return self.global_d(torch.cat([self.global_convs(m).flatten(1), y], 1))


def jsd(pos, neg):
    return (-F.softplus(-pos)).mean() - F.softplus(neg).mean()


def step(model, opt, prior_opt, x):
    opt.zero_grad()
    prior_opt.zero_grad()
    m = model.local(x)
    y = model.head(m)
    m_neg = torch.roll(m, 1, 0)  # negatives: roll, as infomax's default for jsd
    g = jsd(model.global_score(m, y), model.global_score(m_neg, y))
    h, w = m.shape[2], m.shape[3]
    tiled = y[:, :, None, None].expand(-1, -1, h, w)
    l = jsd(model.local_d(torch.cat([m, tiled], 1)), model.local_d(torch.cat([m_neg, tiled], 1)))
    yt = torch.sigmoid(y)
    prior_g = F.softplus(-model.prior_d(yt)).mean()
    loss = -0.5 * g - 1.0 * l + 0.1 * prior_g
    loss.backward()
    prior_opt.zero_grad()  # the prior discriminator learns its own loss
    real = torch.rand_like(yt)
    d_loss = F.softplus(-model.prior_d(real)).mean() + F.softplus(model.prior_d(yt.detach())).mean()
    d_loss.backward()
    opt.step()
    prior_opt.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["small_conv28", "bn_conv32"], default="small_conv28")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = SmallConv28() if a.model == "small_conv28" else BnConv32()
    prior = list(model.prior_d.parameters())
    main_params = [p for n, p in model.named_parameters() if not n.startswith("prior_d.")]
    opt = torch.optim.Adam(main_params, lr=1e-4)
    prior_opt = torch.optim.Adam(prior, lr=1e-4)
    x = torch.rand(model.batch, *model.shape)
    model.train()
    for _ in range(a.warmup):
        step(model, opt, prior_opt, x)
    times = []
    for _ in range(a.steps):
        t0 = time.perf_counter()
        step(model, opt, prior_opt, x)
        times.append(time.perf_counter() - t0)
    model.eval()
    inf = []
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            model.head(model.local(x))
            if i >= a.warmup:
                inf.append(time.perf_counter() - t0)
    med = statistics.median(times)
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}", "model": a.model, "threads": torch.get_num_threads(),
        "batch": model.batch, "steps": a.steps, "step_ms_median": 1e3 * med,
        "train_images_per_s": model.batch / med, "infer_images_per_s": model.batch / statistics.median(inf),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == "__main__":
    main()
