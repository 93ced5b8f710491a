#!/bin/sh
# SPDX-License-Identifier: MIT
# Run virq-vm's demo (--demo, or --demo-sim) and check its summary: exit
# status 0 and a nonzero count for every path.  Status 77 from virq-vm
# (no usable /dev/kvm) is KVM-SKIP.
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
for src in ioapic-edge ioapic-level pic msix; do
	n=$(sed -n '/^summary after/,$p' "$out" | awk -v s="$src" '$1 == s { n += $5 } END { print n + 0 }')
	if [ "$n" -eq 0 ]; then
		echo "FAIL: no interrupts from $src in the summary"
		exit 1
	fi
done
exit 0
