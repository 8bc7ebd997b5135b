import csv
exec(open('iters.py').read().split("for mult in")[0])
u = curves('seed1_evals.csv')['uniform']
for mult in (1.0, 1.1):
    T = mult * u[-1][1]
    ui = reach(u, T)
    row = [f"T={T:.5f} uniform(1.08) {ui}"]
    for lr, path in (("1.08", "seed1_evals.csv"), ("0.5", "true-lr0.5_evals.csv"), ("2.3", "true-lr2.3_evals.csv")):
        it = reach(curves(path)['true'], T)
        row.append(f"true lr {lr}: {it} ({it/ui:.2f})" if it else f"true lr {lr}: not reached")
    print("  ".join(row))
