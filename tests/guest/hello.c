/* SPDX-License-Identifier: MIT */
/*
 * hello: the loader's contract.  Checks the multiboot information against
 * fw_cfg (RAM size), the command line, and with "mods=N" that N modules
 * arrived whose contents start with "MOD" and whose strings are set.
 */
#include "kernel.h"

void kmain(void)
{
	const struct mb_info *mbi = mb_info;
	char sig[4];

	printf("hello from a virq-vm guest, APIC %u\n", lapic_id());
	fwcfg_read(0x00, sig, sizeof(sig));
	if (memcmp(sig, "QEMU", 4))
		fail("fw_cfg signature");
	uint64_t ram = fwcfg_ram_size();
	if (!(mbi->flags & 1) || mbi->mem_lower != 639 ||
	    ((uint64_t)mbi->mem_upper << 10) + 0x100000 != ram)
		fail("mem_lower %u mem_upper %u, fw_cfg RAM %lu", mbi->mem_lower,
		     mbi->mem_upper, (unsigned long)ram);
	printf("hello: RAM %u MiB, %u CPUs, cmdline '%s'\n", (unsigned)(ram >> 20),
	       fwcfg_nr_cpus(), (const char *)(uintptr_t)mbi->cmdline);

	uint32_t mods = cmdline_uint("mods", 0);
	uint32_t got = (mbi->flags & (1u << 3)) ? mbi->mods_count : 0;
	if (got != mods)
		fail("%u modules, expected %u", got, mods);
	const struct mb_module *m = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
	for (uint32_t i = 0; i < got; i++) {
		const char *data = (const char *)(uintptr_t)m[i].start;
		if (m[i].start & 0xfff || m[i].end < m[i].start + 3 ||
		    memcmp(data, "MOD", 3) || !m[i].string)
			fail("module %u at 0x%x-0x%x", i, m[i].start, m[i].end);
		printf("hello: module %u '%s', %u bytes\n", i,
		       (const char *)(uintptr_t)m[i].string, m[i].end - m[i].start);
	}
}
