/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "internal.h"

/* One reason per thread, so concurrent callers never see each other's. */
static _Thread_local char last_error[256];

const char *virq_last_error(void)
{
	return last_error;
}

void virq_clear_error(void)
{
	last_error[0] = '\0';
}

int virq_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return -err;
}
