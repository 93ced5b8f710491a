#!/usr/bin/env bash
# One closing line over every build's meson test log: "check: N passed, N failed".
set -u
pass=0 fail=0 skip=0
for log in "$@"; do
	[ -f "$log" ] || continue
	pass=$((pass + $(grep -o '"result": "OK"' "$log" | wc -l)))
	skip=$((skip + $(grep -o '"result": "SKIP"' "$log" | wc -l)))
	fail=$((fail + $(grep -oE '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$log" | wc -l)))
done
echo "check: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
