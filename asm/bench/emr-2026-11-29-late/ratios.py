"""Per-round ratios OpenBLAS time / Go time (>1: Go faster), from the raw files of this folder."""
import re, statistics, collections
def go_rounds(path, impl, shapes):
    out = collections.defaultdict(list)
    for line in open(path):
        m = re.match(r'Benchmark(\S+?)/impl=(\S+?)(?:/threads=1)?-\d+\s+\d+\s+(\d+(?:\.\d+)?) ns/op', line)
        if m and m.group(2) == impl:
            for key, pat in shapes.items():
                if re.search(pat, m.group(1)):
                    out[key].append(float(m.group(3)) * 1e-9)
    return out
def numpy_rounds(path, shapes):
    out = collections.defaultdict(list)
    for line in open(path):
        for key, pat in shapes.items():
            if re.match(pat, line):
                out[key].append(float(re.search(r'median ([\d.]+) s', line).group(1)))
    return out
def report(go, np_):
    for k in go:
        r = [n / g for g, n in zip(go[k], np_[k])]
        print(f"{k:28s} rounds {len(r)}  Go median {statistics.median(go[k])*1e3:8.3f} ms  OpenBLAS median {statistics.median(np_[k])*1e3:8.3f} ms"
              f"  per-round OpenBLAS/Go median {statistics.median(r):.2f} (range {min(r):.2f}–{max(r):.2f})")
eng = {'train fwd NT 32x1024x1024': r'train-fwd', 'train dX NN 32x1024x1024': r'train-dX', 'train dW TN 1024x1024x32': r'train-dW',
       'rehash fwd NT 256x1024x1024': r'rehash-fwd', 'rehash proj NT 256x128x1024': r'rehash-proj', 'rehash vh NT 128x1024x1024': r'rehash-vh'}
report(go_rounds('nopack/engine.txt', 'avx512', eng), numpy_rounds('nopack/numpy.txt', {k: re.escape(k) for k in eng}))
report(go_rounds('nopack/srp.txt', 'avx512', {'SRP 4096x16384x128+pack': r'SRP'}), numpy_rounds('nopack/numpy.txt', {'SRP 4096x16384x128+pack': r'SRP 4096x16384x128\+pack'}))
sg = {'Sgemm NN 1024^3': r'/NN/', 'Sgemm NT 1024^3': r'/NT/', 'Sgemm TN 1024^3': r'/TN/'}
report(go_rounds('sgemm/sgemm-avx512.txt', 'avx512', sg), numpy_rounds('sgemm/sgemm-numpy.txt', {'Sgemm NN 1024^3': r'.*NN', 'Sgemm NT 1024^3': r'.*NT', 'Sgemm TN 1024^3': r'.*TN'}))
