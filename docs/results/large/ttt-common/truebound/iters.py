import csv, sys, statistics
# iterations to target: the first evaluation at or below T after which the test loss stays below 1.1*T
def curves(path):
    c = {}
    for r in csv.DictReader(open(path)):
        if r['kind'] != 'eval': continue
        c.setdefault(r['sampler'], []).append((int(r['iter']), float(r['test_loss'])))
    return c
def reach(curve, T):
    for i, (it, v) in enumerate(curve):
        if v <= T and all(w < 1.1 * T for _, w in curve[i:]):
            return it
    return None
for mult in (1.0, 1.1):
    print(f"target = {mult} x uniform's final test loss")
    ratios = {}
    for p in sys.argv[1:]:
        c = curves(p)
        T = mult * c['uniform'][-1][1]
        u = reach(c['uniform'], T)
        row = [p, f"T={T:.5f}", f"uniform {u}"]
        for s in c:
            if s == 'uniform': continue
            it = reach(c[s], T)
            row.append(f"{s} {it} ({it/u:.2f})" if it and u else f"{s} {it}")
            if it and u: ratios.setdefault(s, []).append(it / u)
        print("  " + "  ".join(row))
    for s, v in ratios.items():
        print(f"  {s}: median ratio {statistics.median(v):.2f} over {len(v)} seeds {['%.2f' % x for x in v]}")
