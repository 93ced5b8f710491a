/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_ERROR_H
#define VIRQ_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every public function that can fail returns 0 (or a documented
 * non-negative value) on success and a negative errno on failure, like
 * KVM's ioctls.  The calling thread can then fetch a one-line reason.
 */

/* One-line reason for this thread's most recent failure ("" if none). */
const char *virq_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
