#!/usr/bin/env python3
"""Writes the Levitus (1982) World Ocean Atlas climatology as a regression CSV.

Every ocean grid cell with both a temperature and a salinity (1° × 1°, 20 depth
levels, 0–5000 m) becomes one row:

    temp_c, x, y, z, log_depth, salinity

temp_c (°C, the target, column 0); x, y, z: the cell's position on the unit
sphere (cos lat cos lon, cos lat sin lon, sin lat), so that longitude wraps
around; log_depth = ln(1 + depth in metres); salinity in parts per thousand.
Rows are shuffled with a fixed seed so that `--max-rows` takes a uniform
subset. Usage: levitus.py levitus_climatology.cdf out.csv
"""
import sys

import numpy as np
from scipy.io import netcdf_file


def main(src, dst):
    f = netcdf_file(src, "r", mmap=False)
    lon = f.variables["XAXLEVITR"].data.astype(np.float64)
    lat = f.variables["YAXLEVITR"].data.astype(np.float64)
    depth = f.variables["ZAXLEVITR"].data.astype(np.float64)
    temp = f.variables["TEMP"].data.astype(np.float64)  # (depth, lat, lon)
    salt = f.variables["SALT"].data.astype(np.float64)
    ok = (temp > -1e9) & (salt > -1e9) & np.isfinite(temp) & np.isfinite(salt)
    k, j, i = np.nonzero(ok)
    la, lo = np.radians(lat[j]), np.radians(lon[i])
    rows = np.column_stack([
        temp[k, j, i],
        np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la),
        np.log1p(depth[k]),
        salt[k, j, i],
    ])
    rows = rows[np.random.default_rng(1).permutation(len(rows))]
    with open(dst, "w") as out:
        out.write("temp_c,x,y,z,log_depth,salinity\n")
        np.savetxt(out, rows, fmt="%.6g", delimiter=",")
    print(f"{dst}: {len(rows)} rows (of {ok.size} grid cells)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
