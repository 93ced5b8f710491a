/* SPDX-License-Identifier: MIT */
/* Guest RAM: one anonymous mapping, guest-physical 0 .. size. */
#include <errno.h>
#include <sys/mman.h>

#include "vm.h"

int mem_init(struct vm_mem *mem, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	mem->host = p;
	mem->size = size;
	return 0;
}

void *mem_ptr(const struct vm_mem *mem, uint64_t gpa, uint64_t len)
{
	if (gpa > mem->size || len > mem->size - gpa)
		return NULL;
	return mem->host + gpa;
}
