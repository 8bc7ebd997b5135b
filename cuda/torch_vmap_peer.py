#!/usr/bin/env python3
"""PyTorch peer of the Rehasher's per-example gradient norms (RESULTS.md).

For the same MLP as TestRehashBench (90 inputs, one hidden relu layer of width
w, one output, float32) it computes per-sample gradients of the loss
1/2 (f(x_i) - y_i)^2 with torch.func.vmap(torch.func.grad(...)) over batches
of B examples, and their norms, and times that with CUDA events (warm-up, then
the median of --reps runs). It reports per-sample gradients per second.
PyTorch materializes every per-sample gradient (B x P floats); the Rehasher
never does (it computes |a_i| from the per-layer delta and h norms), so B is
capped so that the gradients fit in --max-gb GiB.

    PYTHONUNBUFFERED=1 python3 cuda/torch_vmap_peer.py --widths 1024,4096,16384
"""
import argparse
import statistics

import torch
from torch.func import functional_call, grad, vmap


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", default="1024,4096,16384")
    ap.add_argument("--batch", type=int, default=8192)
    ap.add_argument("--inputs", type=int, default=90)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--max-gb", type=float, default=16.0)
    args = ap.parse_args()
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False  # pure FP32, as the Rehasher
    torch.backends.cudnn.allow_tf32 = False
    print(f"TORCHPEER torch={torch.__version__} cuda={torch.version.cuda} device={torch.cuda.get_device_name(0)} "
          f"tf32={torch.backends.cuda.matmul.allow_tf32}")
    for w in [int(s) for s in args.widths.split(",")]:
        torch.manual_seed(1)
        model = torch.nn.Sequential(torch.nn.Linear(args.inputs, w), torch.nn.ReLU(), torch.nn.Linear(w, 1)).to(dev)
        params = {k: v.detach() for k, v in model.named_parameters()}
        P = sum(v.numel() for v in params.values())
        B = min(args.batch, int(args.max_gb * 2**30 // (4 * P)))

        def loss(p, x, y):
            f = functional_call(model, p, (x.unsqueeze(0),))
            return 0.5 * ((f - y) ** 2).sum()

        per_sample = vmap(grad(loss), in_dims=(None, 0, 0))
        x = torch.randn(B, args.inputs, device=dev)
        y = torch.randn(B, 1, device=dev)

        def step():
            g = per_sample(params, x, y)
            sq = None
            for v in g.values():
                s = v.reshape(B, -1).pow(2).sum(1)
                sq = s if sq is None else sq + s
            return sq.sqrt()

        with torch.no_grad():
            # Check against autograd on two examples.
            norms = step()
            for i in (0, B - 1):
                model.zero_grad()
                with torch.enable_grad():
                    out = model(x[i:i + 1])
                    (0.5 * ((out - y[i:i + 1]) ** 2).sum()).backward()
                ref = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))
                rel = abs(norms[i].item() - ref.item()) / max(ref.item(), 1e-30)
                assert rel < 1e-4, f"w={w} example {i}: vmap norm {norms[i].item()} vs autograd {ref.item()}"
            for _ in range(3):
                step()
            torch.cuda.synchronize()
            times = []
            for _ in range(args.reps):
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                step()
                b.record()
                torch.cuda.synchronize()
                times.append(a.elapsed_time(b) / 1e3)
        med = statistics.median(times)
        peak = torch.cuda.max_memory_allocated() / 2**30
        print(f"TORCHPEER w={w} P={P} B={B} median_s={med:.5f} per_sample_grads/s={B / med:.4g} "
              f"min_s={min(times):.5f} max_s={max(times):.5f} peak_mem_GiB={peak:.2f}")
        del model, params, x, y
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    main()
