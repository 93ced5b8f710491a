#!/bin/sh
# SPDX-License-Identifier: MIT
# Run virq-vm and check its exit status (meson test driver).
#   run_vm.sh STATUS STDERR_LINES VIRQ_VM [ARGS...]
# Passes when virq-vm exits with STATUS and, if STDERR_LINES is not "-",
# wrote exactly that many lines on stderr.  A guest that passes writes 0 to
# the debug-exit port: status 1.  Status 77 from virq-vm means /dev/kvm is
# unusable: reported as "KVM-SKIP" and meson's skip (77), unless 77 was
# the status wanted.
want=$1 lines=$2
shift 2
err=$(mktemp) || exit 1
trap 'rm -f "$err"' EXIT
"$@" 2>"$err"
got=$?
cat "$err" >&2
if [ "$got" -eq 77 ] && [ "$want" -ne 77 ]; then
	echo "KVM-SKIP: /dev/kvm is not usable"
	exit 77
fi
if [ "$got" -ne "$want" ]; then
	echo "FAIL: virq-vm exited with $got, expected $want"
	exit 1
fi
if [ "$lines" != "-" ]; then
	n=$(wc -l <"$err")
	if [ "$n" -ne "$lines" ]; then
		echo "FAIL: $n lines on stderr, expected $lines"
		exit 1
	fi
fi
exit 0
