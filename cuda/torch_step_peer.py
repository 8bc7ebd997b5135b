#!/usr/bin/env python3
"""PyTorch peer of the device training step (TestStepBench, RESULTS.md).

The same MLP as TestStepBench (90 inputs, one hidden relu layer of width w,
one output, float32, TF32 off) trained with plain uniform minibatch SGD the
way a PyTorch user writes it: data resident on the GPU, a random batch of B
indices, forward, 1/2 mean squared error, backward, torch.optim.SGD.step.
Three loops are timed (wall clock around a synchronize, median of --reps runs
of --steps steps after a warm-up):
  async: no host read per step (PyTorch's best case: kernels queue ahead);
  item:  loss.item() every step (a loop that looks at its loss, as the
         engine's trainer does);
  graph: the whole step captured once in a CUDA graph and replayed
         (PyTorch's best case: no per-kernel launch or Python overhead).
It prints steps per second as TORCHSTEP lines.

    PYTHONUNBUFFERED=1 python3 cuda/torch_step_peer.py --widths 64,1024,4096,16384 --batches 32,256
"""
import argparse
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", default="64,256,1024,4096,16384")
    ap.add_argument("--batches", default="32,256")
    ap.add_argument("--inputs", type=int, default=90)
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--graph", type=int, default=1, help="also time the step captured in a CUDA graph")
    args = ap.parse_args()
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"TORCHSTEP torch={torch.__version__} cuda={torch.version.cuda} "
          f"device={torch.cuda.get_device_name(0)} tf32={torch.backends.cuda.matmul.allow_tf32}")
    g = torch.Generator(device=dev).manual_seed(3)
    X = torch.randn(args.n, args.inputs, device=dev, generator=g)
    Y = torch.randn(args.n, 1, device=dev, generator=g)
    for w in [int(s) for s in args.widths.split(",")]:
        for B in [int(s) for s in args.batches.split(",")]:
            torch.manual_seed(1)
            model = torch.nn.Sequential(torch.nn.Linear(args.inputs, w), torch.nn.ReLU(),
                                        torch.nn.Linear(w, 1)).to(dev)
            opt = torch.optim.SGD(model.parameters(), lr=1e-3)

            def step():
                idx = torch.randint(args.n, (B,), device=dev, generator=g)
                out = model(X[idx])
                loss = 0.5 * (out - Y[idx]).pow(2).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                return loss

            res = {"graph": float("nan")}
            for mode in ("async", "item"):
                for _ in range(20):
                    step()
                torch.cuda.synchronize()
                times = []
                for _ in range(args.reps):
                    t0 = time.perf_counter()
                    for _ in range(args.steps):
                        loss = step()
                        if mode == "item":
                            loss.item()
                    torch.cuda.synchronize()
                    times.append((time.perf_counter() - t0) / args.steps)
                res[mode] = statistics.median(times)
            if args.graph:
                # The eager loop's last loss keeps its autograd graph (and its
                # AccumulateGrad nodes) alive, which invalidates a capture.
                loss = None
                try:
                    res["graph"] = graph_rate(model, opt, X, Y, args, B, dev)
                except Exception as e:  # report, keep the eager numbers
                    print(f"TORCHSTEP w={w} b={B} graph capture failed: {e!r}")
            print(f"TORCHSTEP w={w} b={B} async_it/s={1/res['async']:.4g} item_it/s={1/res['item']:.4g} "
                  f"graph_it/s={1/res['graph']:.4g} (median of {args.reps} x {args.steps} steps)")


def graph_rate(model, opt, X, Y, args, B, dev):
    """Seconds per step with the whole step (batch draw, forward, backward,
    SGD update) captured in one CUDA graph and replayed: PyTorch's best case,
    no Python or launch overhead per kernel, no host read per step."""
    n = X.shape[0]

    def step():
        idx = torch.randint(n, (B,), device=dev)
        out = model(X[idx])
        loss = 0.5 * (out - Y[idx]).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            step()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(g):
        step()
    for _ in range(20):
        g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        for _ in range(args.steps):
            g.replay()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) / args.steps)
    return statistics.median(times)


if __name__ == "__main__":
    main()
