#!/usr/bin/env bash
# The library carries the USDT probes docs/api.md lists (provider "virq").
set -eu
lib=$1
notes=$(readelf -n "$lib")
for probe in route_commit inject msi deliver; do
	grep -q "Name: $probe\$" <<<"$notes" || { echo "missing USDT probe virq:$probe in $lib"; exit 1; }
done
grep -q "Provider: virq" <<<"$notes" || { echo "no provider virq"; exit 1; }
echo "4 USDT probes present"
