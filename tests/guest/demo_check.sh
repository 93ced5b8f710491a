#!/bin/sh
# SPDX-License-Identifier: MIT
# Run virq-vm's demo (--demo, or --demo-sim) and check its summary: exit
# status 0, a nonzero count for every path, and for the paths that rotate
# (all but the PIC) one on every vCPU of the summary.  Status 77 from
# virq-vm (no usable /dev/kvm) is KVM-SKIP.
#   demo_check.sh VIRQ_VM [ARGS...]
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
"$@" >"$out"
got=$?
cat "$out"
# --demo without a usable /dev/kvm falls back to the simulation and says
# so: that is a skip of the KVM demo, not a pass.
if [ "$got" -eq 77 ] || grep -q '^demo: /dev/kvm is not usable' "$out"; then
	echo "KVM-SKIP: /dev/kvm is not usable"
	exit 77
fi
if [ "$got" -ne 0 ]; then
	echo "FAIL: virq-vm exited with $got, expected 0"
	exit 1
fi
summary=$(sed -n '/^summary after/,$p' "$out")
for src in ioapic-edge ioapic-level pic msix; do
	n=$(printf '%s\n' "$summary" | awk -v s="$src" '$1 == s { n += $5 } END { print n + 0 }')
	if [ "$n" -eq 0 ]; then
		echo "FAIL: no interrupts from $src in the summary"
		exit 1
	fi
done
# the vCPUs: the highest one any row names, plus one
ncpu=$(printf '%s\n' "$summary" | awk '$4 ~ /^[0-9]+$/ && $4 + 1 > n { n = $4 + 1 } END { print n + 0 }')
for src in ioapic-edge ioapic-level msix; do
	for c in $(seq 0 $((ncpu - 1))); do
		n=$(printf '%s\n' "$summary" | awk -v s="$src" -v c="$c" '$1 == s && $4 == c { n += $5 } END { print n + 0 }')
		if [ "$n" -eq 0 ]; then
			echo "FAIL: no interrupts from $src on vCPU $c in the summary"
			exit 1
		fi
	done
done
exit 0
