/* SPDX-License-Identifier: MIT */
/*
 * Multiboot (v0.6.96) loader for test kernels, as QEMU's -kernel loads
 * them:
 *  - the header (magic 0x1BADB002, flags, checksum) is searched for in the
 *    file's first 8 KiB, 4-byte aligned;
 *  - flags bits 0-15 other than 0 (page-aligned modules, always done),
 *    1 (memory info, always given) and 2 (video mode, ignored: no video)
 *    are refused, as the specification asks;
 *  - with flag 16 the header's address fields place the image (the
 *    "a.out kludge"); without it the file must be ELF32 (i386) and its
 *    PT_LOAD segments go to their physical addresses, bss zeroed;
 *  - modules follow the image, page aligned, then the information
 *    structure, the module list, the memory map and the strings.
 * The boot vCPU then starts as the specification says (kvm.c).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm.h"

#define MB_MAGIC 0x1badb002u
#define MB_SEARCH 8192u
#define MB_FLAG_ALIGN 0x1u
#define MB_FLAG_MEMINFO 0x2u
#define MB_FLAG_VIDEO 0x4u
#define MB_FLAG_AOUT 0x10000u
#define MB_FLAGS_KNOWN (MB_FLAG_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

/* information structure flags */
#define MBI_MEM (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)

#define MBI_SIZE 120u /* up to and past the framebuffer fields, zeroed */
#define LOW_MEM_END 0x9fc00u
#define HIGH_MEM 0x100000u
#define PAGE 4096u

struct file_buf {
	uint8_t *data;
	size_t size;
};

static int read_file(const char *path, struct file_buf *fb, const char *what)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "virq-vm: cannot read %s '%s': %s\n", what, path,
			strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "virq-vm: cannot read %s '%s': not a regular file\n",
			what, path);
		close(fd);
		return -1;
	}
	fb->size = (size_t)st.st_size;
	fb->data = malloc(fb->size ? fb->size : 1);
	size_t off = 0;
	while (fb->data && off < fb->size) {
		ssize_t n = read(fd, fb->data + off, fb->size - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	if (!fb->data || off != fb->size) {
		fprintf(stderr, "virq-vm: cannot read %s '%s': short read\n", what, path);
		free(fb->data);
		return -1;
	}
	return 0;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Copy @len file bytes and zero up to @memsz at @gpa; track the end. */
static int place(struct vm_mem *mem, uint64_t gpa, const uint8_t *src, uint64_t len,
		 uint64_t memsz, uint64_t *end, const char *kernel)
{
	uint8_t *dst = mem_ptr(mem, gpa, memsz);
	if (!dst || gpa < 0x1000) {
		fprintf(stderr,
			"virq-vm: %s: segment 0x%llx+0x%llx is outside guest RAM\n",
			kernel, (unsigned long long)gpa, (unsigned long long)memsz);
		return -1;
	}
	memcpy(dst, src, len);
	memset(dst + len, 0, memsz - len);
	if (gpa + memsz > *end)
		*end = gpa + memsz;
	return 0;
}

static int load_aout(struct vm_mem *mem, const struct file_buf *fb, size_t hdr_off,
		     struct mb_boot *boot, uint64_t *end)
{
	const uint8_t *h = fb->data + hdr_off;
	uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
	uint32_t load_end = rd32(h + 20), bss_end = rd32(h + 24);

	if (load_addr > header_addr || header_addr - load_addr > hdr_off) {
		fprintf(stderr, "virq-vm: %s: bad multiboot load address\n",
			boot->kernel);
		return -1;
	}
	size_t file_off = hdr_off - (header_addr - load_addr);
	uint64_t len = load_end ? (uint64_t)load_end - load_addr : fb->size - file_off;
	if (load_end && (load_end < load_addr || len > fb->size - file_off)) {
		fprintf(stderr, "virq-vm: %s: bad multiboot load_end_addr\n",
			boot->kernel);
		return -1;
	}
	uint64_t memsz = len;
	if (bss_end) {
		if (bss_end < load_addr + len) {
			fprintf(stderr, "virq-vm: %s: bad multiboot bss_end_addr\n",
				boot->kernel);
			return -1;
		}
		memsz = (uint64_t)bss_end - load_addr;
	}
	boot->entry = rd32(h + 28);
	return place(mem, load_addr, fb->data + file_off, len, memsz, end, boot->kernel);
}

static int load_elf32(struct vm_mem *mem, const struct file_buf *fb, struct mb_boot *boot,
		      uint64_t *end)
{
	const char *k = boot->kernel;
	Elf32_Ehdr eh;

	if (fb->size < sizeof(eh) || memcmp(fb->data, ELFMAG, SELFMAG) != 0) {
		fprintf(stderr, "virq-vm: %s: not ELF and multiboot flag 16 is clear\n",
			k);
		return -1;
	}
	if (fb->data[EI_CLASS] != ELFCLASS32) {
		fprintf(stderr,
			"virq-vm: %s: ELF64 kernel: Multiboot v1 loads ELF32 only "
			"(objcopy -O elf32-i386 converts it)\n",
			k);
		return -1;
	}
	memcpy(&eh, fb->data, sizeof(eh));
	if (eh.e_machine != EM_386 || eh.e_type != ET_EXEC ||
	    eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phoff > fb->size ||
	    (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr) > fb->size - eh.e_phoff) {
		fprintf(stderr, "virq-vm: %s: not an i386 ELF executable\n", k);
		return -1;
	}
	unsigned loaded = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;
		memcpy(&ph, fb->data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > fb->size ||
		    ph.p_filesz > fb->size - ph.p_offset) {
			fprintf(stderr, "virq-vm: %s: bad ELF program header %u\n", k, i);
			return -1;
		}
		if (place(mem, ph.p_paddr, fb->data + ph.p_offset, ph.p_filesz,
			  ph.p_memsz, end, k) < 0)
			return -1;
		loaded++;
	}
	if (!loaded) {
		fprintf(stderr, "virq-vm: %s: no loadable ELF segment\n", k);
		return -1;
	}
	boot->entry = eh.e_entry;
	return 0;
}

/* Bump allocator for the boot information area. */
struct area {
	struct vm_mem *mem;
	uint64_t next;
};

static int area_alloc(struct area *a, uint64_t size, uint64_t align, uint64_t *gpa)
{
	uint64_t at = align_up(a->next, align);
	if (at >= UINT32_MAX || !mem_ptr(a->mem, at, size))
		return -1;
	*gpa = at;
	a->next = at + size;
	return 0;
}

static int area_string(struct area *a, const char *s, uint32_t *gpa)
{
	uint64_t at;
	size_t len = strlen(s) + 1;
	if (area_alloc(a, len, 1, &at) < 0)
		return -1;
	memcpy(mem_ptr(a->mem, at, len), s, len);
	*gpa = (uint32_t)at;
	return 0;
}

static int build_info(struct vm_mem *mem, struct mb_boot *boot, uint64_t kernel_end)
{
	struct area a = { mem, align_up(kernel_end, PAGE) };
	uint64_t info, mods = 0, mmap;
	uint32_t str;

	/* modules first, page aligned */
	struct {
		uint32_t start, end;
	} *mod_pos = calloc(boot->nr_mods ? boot->nr_mods : 1, sizeof(*mod_pos));
	if (!mod_pos)
		return -1;
	for (unsigned i = 0; i < boot->nr_mods; i++) {
		struct file_buf fb;
		uint64_t at;
		if (read_file(boot->mods[i].path, &fb, "initrd") < 0)
			goto fail;
		if (area_alloc(&a, fb.size, PAGE, &at) < 0) {
			fprintf(stderr,
				"virq-vm: initrd '%s' does not fit in guest RAM\n",
				boot->mods[i].path);
			free(fb.data);
			goto fail;
		}
		memcpy(mem_ptr(mem, at, fb.size), fb.data, fb.size);
		free(fb.data);
		mod_pos[i].start = (uint32_t)at;
		mod_pos[i].end = (uint32_t)(at + fb.size);
	}

	if (area_alloc(&a, MBI_SIZE, 8, &info) < 0)
		goto nospace;
	uint8_t *mbi = mem_ptr(mem, info, MBI_SIZE);
	memset(mbi, 0, MBI_SIZE);
	uint32_t flags = MBI_MEM | MBI_MMAP | MBI_LOADER_NAME | MBI_CMDLINE;
	wr32(mbi + 4, LOW_MEM_END / 1024);
	wr32(mbi + 8, (uint32_t)((mem->size - HIGH_MEM) / 1024));

	if (area_string(&a, boot->cmdline ? boot->cmdline : "", &str) < 0)
		goto nospace;
	wr32(mbi + 16, str);

	if (boot->nr_mods) {
		if (area_alloc(&a, 16ull * boot->nr_mods, 8, &mods) < 0)
			goto nospace;
		for (unsigned i = 0; i < boot->nr_mods; i++) {
			uint8_t *m = mem_ptr(mem, mods + 16ull * i, 16);
			if (area_string(&a, boot->mods[i].string, &str) < 0)
				goto nospace;
			wr32(m, mod_pos[i].start);
			wr32(m + 4, mod_pos[i].end);
			wr32(m + 8, str);
			wr32(m + 12, 0);
		}
		flags |= MBI_MODS;
		wr32(mbi + 20, boot->nr_mods);
		wr32(mbi + 24, (uint32_t)mods);
	}

	/* memory map: low RAM, the BIOS hole, high RAM */
	static const uint32_t type[3] = { 1, 2, 1 };
	const uint64_t base[3] = { 0, LOW_MEM_END, HIGH_MEM };
	const uint64_t len[3] = { LOW_MEM_END, HIGH_MEM - LOW_MEM_END,
				  mem->size - HIGH_MEM };
	if (area_alloc(&a, 3 * 24, 8, &mmap) < 0)
		goto nospace;
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *e = mem_ptr(mem, mmap + 24ull * i, 24);
		wr32(e, 20);
		memcpy(e + 4, &base[i], 8);
		memcpy(e + 12, &len[i], 8);
		wr32(e + 20, type[i]);
	}
	wr32(mbi + 44, 3 * 24);
	wr32(mbi + 48, (uint32_t)mmap);

	if (area_string(&a, "virq-vm", &str) < 0)
		goto nospace;
	wr32(mbi + 64, str);
	wr32(mbi, flags);
	boot->info = (uint32_t)info;
	free(mod_pos);
	return 0;

nospace:
	fprintf(stderr, "virq-vm: multiboot information does not fit in guest RAM\n");
fail:
	free(mod_pos);
	return -1;
}

int multiboot_load(struct vm_mem *mem, struct mb_boot *boot)
{
	struct file_buf fb;
	size_t hdr_off = SIZE_MAX;
	uint64_t end = 0;
	int r;

	if (read_file(boot->kernel, &fb, "kernel") < 0)
		return -1;
	for (size_t off = 0; off + 12 <= fb.size && off + 12 <= MB_SEARCH; off += 4) {
		const uint8_t *h = fb.data + off;
		if (rd32(h) == MB_MAGIC && rd32(h) + rd32(h + 4) + rd32(h + 8) == 0) {
			hdr_off = off;
			break;
		}
	}
	if (hdr_off == SIZE_MAX) {
		fprintf(stderr, "virq-vm: %s: no multiboot header in the first 8 KiB\n",
			boot->kernel);
		free(fb.data);
		return -1;
	}
	uint32_t flags = rd32(fb.data + hdr_off + 4);
	if (flags & 0xffffu & ~MB_FLAGS_KNOWN) {
		fprintf(stderr,
			"virq-vm: %s: multiboot flags 0x%x ask for unsupported features\n",
			boot->kernel, flags);
		free(fb.data);
		return -1;
	}
	if (flags & MB_FLAG_AOUT) {
		if (hdr_off + 32 > fb.size) {
			fprintf(stderr, "virq-vm: %s: truncated multiboot header\n",
				boot->kernel);
			r = -1;
		} else {
			r = load_aout(mem, &fb, hdr_off, boot, &end);
		}
	} else {
		r = load_elf32(mem, &fb, boot, &end);
	}
	free(fb.data);
	if (r == 0 && !mem_ptr(mem, boot->entry, 1)) {
		fprintf(stderr, "virq-vm: %s: entry 0x%x is outside guest RAM\n",
			boot->kernel, boot->entry);
		r = -1;
	}
	if (r == 0)
		r = build_info(mem, boot, end);
	return r;
}
