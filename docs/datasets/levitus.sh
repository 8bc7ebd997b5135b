#!/usr/bin/env bash
# Fetches the Levitus World Ocean Atlas climatology (Debian package
# ferret-datasets, public domain NOAA data) and writes it as a regression CSV
# (718 725 rows; target: temperature, column 0; see levitus.py).
#   bash docs/datasets/levitus.sh [OUT.csv]     # default: data/levitus.csv
# Needs apt (Debian/Ubuntu) for the package and python3-scipy to read netCDF.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-data/levitus.csv}
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=python3
if ! $py -c 'import scipy.io, numpy' 2>/dev/null; then
	py=/usr/bin/python3
	if ! $py -c 'import scipy.io, numpy' 2>/dev/null; then
		sudo=; [ "$(id -u)" -ne 0 ] && sudo=sudo
		$sudo apt-get update -qq && $sudo apt-get install -y -qq python3-scipy python3-numpy
	fi
fi
(cd "$tmp" && chmod 777 . && apt-get download ferret-datasets >/dev/null)
dpkg -x "$tmp"/ferret-datasets_*.deb "$tmp/x"
$py docs/datasets/levitus.py "$tmp/x/usr/share/ferret-vis/data/levitus_climatology.cdf" "$out"
# The CSV this project's results were made from (ferret-datasets of Debian
# bookworm, scipy 1.10.1); another package version may legitimately differ.
want=571a157c91a93e6d1188aa20852f3eb1044ed2fc1c5f4ca4ba319414cfb456c2
got=$(sha256sum "$out" | cut -d' ' -f1)
if [ "$got" = "$want" ]; then
	echo "$out: sha256 matches the CSV of docs/RESULTS.md"
else
	echo "$out: sha256 $got differs from the CSV of docs/RESULTS.md ($want)" >&2
fi
