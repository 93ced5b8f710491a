#!/bin/sh
# SPDX-License-Identifier: MIT
# The puppet differential test (docs/vm.md, "The puppet").
#   run_puppet.sh VIRQ_VM PUPPET_ELF PUPPET_GEN [NR_SCRIPTS [SEED [APPEND]]]
# Writes NR_SCRIPTS (default 256) seeded scripts (SEED default 1, or
# $PUPPET_SEED) with puppet_gen, boots the puppet once with virq's split
# irqchip and once with --kernel-irqchip (both at the same time), and
# compares the logs script by script.  On a mismatch: the seed, the
# script, the first differing observation and both lines.  77 (KVM-SKIP)
# only when virq-vm says /dev/kvm is unusable.
vm=$1 elf=$2 gen=$3
n=${4:-256}
seed=${5:-${PUPPET_SEED:-1}}
append=${6:-}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

"$gen" "$tmp/scripts" "$n" "$seed" || { echo "FAIL: puppet_gen"; exit 1; }

start=$(date +%s.%N)
"$vm" --timeout 25 --append "$append" --initrd "$tmp/scripts" "$elf" \
	>"$tmp/split.out" 2>"$tmp/split.err" &
p1=$!
"$vm" --kernel-irqchip --timeout 25 --append "$append" --initrd "$tmp/scripts" \
	"$elf" >"$tmp/kirq.out" 2>"$tmp/kirq.err" &
p2=$!
wait $p1
s1=$?
wait $p2
s2=$?
endt=$(date +%s.%N)
cat "$tmp/split.err" "$tmp/kirq.err" >&2
if [ "$s1" -eq 77 ] || [ "$s2" -eq 77 ]; then
	echo "KVM-SKIP: /dev/kvm is not usable"
	exit 77
fi
fail=0
for m in split kirq; do
	st=$s1
	[ $m = kirq ] && st=$s2
	if [ "$st" -ne 1 ]; then
		echo "FAIL: $m boot exited with $st (expected 1, a guest pass)"
		tail -n 5 "$tmp/$m.out"
		fail=1
	fi
done
[ $fail -eq 0 ] || exit 1

grep '^P ' "$tmp/split.out" >"$tmp/split.log"
grep '^P ' "$tmp/kirq.out" >"$tmp/kirq.log"
ns=$(wc -l <"$tmp/split.log")
nk=$(wc -l <"$tmp/kirq.log")

# first differing line, then its first differing token
awk -v f2="$tmp/kirq.log" '
{
	if ((getline b < f2) <= 0) b = "(missing)"
	if ($0 == b)
		next
	na = split($0, x, " ")
	nb = split(b, y, " ")
	for (i = 1; i <= na || i <= nb; i++)
		if (x[i] != y[i])
			break
	printf "%s %s %d\n", x[2], x[3], i
	printf "observation: split \"%s\", kernel-irqchip \"%s\"\n", x[i], y[i]
	printf "split:          %s\nkernel-irqchip: %s\n", $0, b
	exit 1
}' "$tmp/split.log" >"$tmp/diff"
d=$?
if [ $d -ne 0 ]; then
	read -r idx sseed tok <"$tmp/diff"
	echo "FAIL: the logs differ at script $((0x$idx)) (generator seed $seed," \
		"$n scripts; script seed 0x$sseed), token $tok"
	"$gen" --print "$tmp/scripts" "$((0x$idx))"
	tail -n +2 "$tmp/diff"
	echo "reproduce: $0 $vm $elf $gen $n $seed 'first=$((0x$idx)) count=1'"
	exit 1
fi
if [ "$ns" -ne "$nk" ] || [ "$ns" -eq 0 ]; then
	echo "FAIL: $ns scripts logged in split mode, $nk with --kernel-irqchip"
	exit 1
fi
obs=$(awk '{ s += NF - 4 } END { print s }' "$tmp/split.log")
echo "puppet: $ns scripts (seed $seed), $obs observations: both logs agree" \
	"($(awk "BEGIN { printf \"%.2f\", $endt - $start }") s for both boots)"
grep '^PUPPET end' "$tmp/split.out"
exit 0
