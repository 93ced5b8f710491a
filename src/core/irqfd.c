/* SPDX-License-Identifier: MIT */
/*
 * irqfd and resamplefd.
 *
 * Each bound eventfd is registered (level-triggered) in the VM's epoll set
 * under a (generation, slot) key.  Worker threads, or the VMM's own loop in
 * poll mode, wait on the set, read the counter and inject through the
 * router, so a bound irqfd follows route changes by itself.
 *
 * Lifetime: the slot table and the irqfds in it are RCU-published.  A
 * worker resolves its event's key inside a read section and checks the
 * generation, so an event that was already dequeued when its irqfd was
 * unbound finds nothing.  Unbind unpublishes, waits for a grace period
 * with no lock held (an injection in flight finishes) and only then closes
 * the descriptors: after it returns the eventfd injects nothing.
 *
 * Resample: one resampler per GSI, hung off the ack notifiers, holding the
 * resamplefds of every resample irqfd of that GSI as an RCU-published
 * array.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

#define KEY_STOP UINT64_MAX
#define KEY_GC (UINT64_MAX - 1)
#define EVENTS 64

struct resample_fds {
	struct virq_rcu_head rcu;
	unsigned n;
	int fd[];
};

struct resampler {
	struct virq_vm *vm;
	struct irqfd_engine *engine;
	uint32_t gsi;
	struct resample_fds *fds; /* RCU-published, config lock */
	unsigned users;		  /* config lock */
	struct resampler *next;	  /* engine->resamplers, config lock */
};

/* irqfd_bind flag: not unbound when the caller's number closes */
#define IRQFD_OWNED (1u << 31)

struct irqfd {
	uint64_t id;	/* the eventfd's identity (eventfd-id) */
	int fd;		/* our reference to the eventfd */
	int user_fd;	/* the caller's number, to notice its close */
	int resamplefd; /* our reference, or -1 */
	uint32_t gsi;	/* with a hook: the hook's argument */
	uint32_t flags;
	uint32_t slot, gen;
	irqfd_hook_fn hook; /* NULL: inject the GSI; else call hook(opaque, gsi) */
	void *hook_opaque;
	struct resampler *resampler;
	struct irqfd *reap_next; /* unbound, waiting for a grace period */
};

struct irqfd_table {
	struct virq_rcu_head rcu;
	uint32_t n;
	struct irqfd *slot[]; /* RCU-published */
};

struct irqfd_engine {
	struct virq_vm *vm;
	int epfd, stopfd, gcfd;
	bool poll_mode;
	unsigned nr_workers;
	pthread_t workers[VIRQ_IRQFD_MAX_WORKERS];

	/* config lock */
	struct irqfd_table *table; /* RCU-published */
	uint32_t gen;
	unsigned nr_bound;
	bool gc_armed;
	struct resampler *resamplers;

	/* statistics: atomics */
	uint64_t wakeups, signals, resamples, auto_unbound;
};

_Static_assert(offsetof(struct resample_fds, rcu) == 0, "rcu head first");
_Static_assert(offsetof(struct irqfd_table, rcu) == 0, "rcu head first");

static void free_rcu_obj(struct virq_rcu_head *head)
{
	/* every RCU-freed object here starts with its rcu head */
	free(head);
}

/* ---- eventfd identity ---- */

/*
 * The kernel's eventfd-id (fdinfo, Linux >= 6.2) names the eventfd itself,
 * so a dup of a bound eventfd is recognised whatever its number.  Reading
 * it also proves the descriptor is an eventfd.
 */
int irqfd_identity(int fd, uint64_t *id)
{
	char path[64], line[128];
	bool is_eventfd = false, have_id = false;
	FILE *f;

	if (fd < 0 || fcntl(fd, F_GETFD) < 0)
		return virq_fail(EBADF, "irqfd: descriptor %d is not open", fd);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f) {
		/* gone meanwhile: closed; else why (EMFILE...) matters */
		int err = errno == ENOENT ? EBADF : errno;

		return virq_fail(err, "irqfd: cannot inspect descriptor %d: %s", fd,
				 strerror(err));
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (!strncmp(line, "eventfd-count:", 14))
			is_eventfd = true;
		else if (sscanf(line, "eventfd-id: %llu", &v) == 1) {
			*id = v;
			have_id = true;
		}
	}
	fclose(f);
	if (!is_eventfd)
		return virq_fail(EINVAL, "irqfd: descriptor %d is not an eventfd", fd);
	if (!have_id)
		*id = (uint64_t)1 << 63 | (unsigned)fd; /* old kernel: the number */
	return 0;
}

/*
 * Is the caller's @user_fd still the eventfd we hold as @ours?  1 yes, 0
 * no (closed, or the number names another file), -1 cannot tell: kcmp
 * refused (a seccomp policy) or missing (no CONFIG_KCMP), and fdinfo
 * unreadable (out of descriptors).
 * Only a 0 may unbind: a live irqfd is never dropped on a guess.
 */
static int same_file(int user_fd, int ours, uint64_t id)
{
	long r;
	uint64_t now;
	int ret;

	if (fcntl(user_fd, F_GETFD) < 0)
		return 0;
	r = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, user_fd, ours);
	if (r >= 0)
		return r == 0;
	ret = irqfd_identity(user_fd, &now);
	if (ret == -EINVAL || ret == -EBADF)
		return 0; /* not an eventfd now, or closed meanwhile */
	if (ret)
		return -1;
	return now == id;
}

/* ---- injection (RCU read side) ---- */

static void irqfd_inject(struct virq_vm *vm, const struct irqfd *f)
{
	if (f->hook) {
		f->hook(f->hook_opaque, f->gsi);
	} else if (f->flags & VIRQ_IRQFD_RESAMPLE) {
		virq_set_irq(vm, f->gsi, 1, VIRQ_SOURCE_RESAMPLE);
	} else {
		/* a pulse; on an MSI route the falling half is a no-op */
		virq_set_irq(vm, f->gsi, 1, VIRQ_SOURCE_USER);
		virq_set_irq(vm, f->gsi, 0, VIRQ_SOURCE_USER);
	}
}

/*
 * Consume the counter without ever blocking.  Our descriptor shares the
 * caller's file, so O_NONBLOCK is theirs to choose; and with level-triggered
 * epoll two workers (or a callback) can both see the fd ready and only one
 * finds the counter nonzero.  A blocking read here would sleep inside a read
 * section and stall every unbind.  Kernels without RWF_NOWAIT on eventfds
 * (< 5.12) fall back to a plain read.
 */
bool irqfd_counter_take(int fd, uint64_t *count)
{
	struct iovec iov = { count, sizeof(*count) };
	ssize_t n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	if (n < 0 && errno == EOPNOTSUPP)
		n = read(fd, count, sizeof(*count));
	return n == sizeof(*count);
}

static void irqfd_event(struct irqfd_engine *e, uint64_t key)
{
	const struct irqfd_table *t;
	const struct irqfd *f;
	uint32_t slot = (uint32_t)key;
	uint64_t count;

	virq_rcu_read_lock();
	t = virq_rcu_dereference(e->table);
	f = t && slot < t->n ? virq_rcu_dereference(t->slot[slot]) : NULL;
	if (f && f->gen == (uint32_t)(key >> 32) && irqfd_counter_take(f->fd, &count)) {
		__atomic_fetch_add(&e->wakeups, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&e->signals, count, __ATOMIC_RELAXED);
		irqfd_inject(e->vm, f);
	}
	virq_rcu_read_unlock();
}

/* ---- resamplers ---- */

static void resampler_signal(struct resampler *r)
{
	const struct resample_fds *fds = virq_rcu_dereference(r->fds);
	uint64_t one = 1;

	for (unsigned i = 0; fds && i < fds->n; i++)
		if (write(fds->fd[i], &one, sizeof(one)) != sizeof(one))
			continue; /* a saturated counter: the back-end is signalled */
}

static void resampler_ack(void *opaque, uint32_t gsi)
{
	struct resampler *r = opaque;

	virq_set_irq(r->vm, gsi, 0, VIRQ_SOURCE_RESAMPLE);
	resampler_signal(r);
	__atomic_fetch_add(&r->engine->resamples, 1, __ATOMIC_RELAXED);
}

int virq_notify_resampler(struct virq_vm *vm, uint32_t chip, uint32_t pin)
{
	struct resampler *r;
	uint32_t gsi;
	int found;

	if (!vm || !router_gsi_of_pin(&vm->router, chip, pin, &gsi))
		return 0;
	virq_rcu_read_lock();
	r = ack_hook_opaque(virq_rcu_dereference(vm->ack_hooks), gsi, resampler_ack);
	found = r != NULL;
	if (r)
		resampler_signal(r);
	virq_rcu_read_unlock();
	return found;
}

/* Publish @r's fd array with @add appended or @del removed (config lock). */
static int resampler_set_fds(struct resampler *r, int add, int del)
{
	struct resample_fds *old = r->fds, *new;
	unsigned n = old ? old->n : 0, k = 0;

	new = malloc(sizeof(*new) + (n + 1) * sizeof(int));
	if (!new)
		return virq_fail(ENOMEM, "irqfd: out of memory");
	for (unsigned i = 0; i < n; i++)
		if (old->fd[i] != del)
			new->fd[k++] = old->fd[i];
	if (add >= 0)
		new->fd[k++] = add;
	new->n = k;
	virq_rcu_assign_pointer(r->fds, new);
	if (old)
		virq_call_rcu(&old->rcu, free_rcu_obj);
	return 0;
}

static struct resampler *resampler_find(struct irqfd_engine *e, uint32_t gsi)
{
	struct resampler *r;

	for (r = e->resamplers; r && r->gsi != gsi; r = r->next)
		;
	return r;
}

/* Join (creating if needed) the resampler of @f's GSI (config lock). */
static int resampler_join(struct irqfd_engine *e, struct irqfd *f)
{
	struct resampler *r = resampler_find(e, f->gsi);
	bool created = false;
	int ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return virq_fail(ENOMEM, "irqfd: out of memory");
		r->vm = e->vm;
		r->engine = e;
		r->gsi = f->gsi;
		ret = virq_ack_notifier_add(e->vm, f->gsi, resampler_ack, r);
		if (ret) {
			free(r);
			return ret;
		}
		created = true;
	}
	ret = resampler_set_fds(r, f->resamplefd, -1);
	if (ret) {
		if (created) {
			virq_ack_notifier_remove(e->vm, f->gsi, resampler_ack, r);
			free(r);
		}
		return ret;
	}
	if (created) {
		r->next = e->resamplers;
		e->resamplers = r;
	}
	r->users++;
	f->resampler = r;
	return 0;
}

/*
 * Leave the resampler (config lock).  Returns the resampler if @f was its
 * last user: it is unlinked and must be freed after a grace period.
 */
static struct resampler *resampler_leave(struct irqfd_engine *e, struct irqfd *f)
{
	struct resampler *r = f->resampler, **pp;

	if (--r->users) {
		/* the array shrinks; on ENOMEM the fd stays listed, so it must
		 * stay open (leaked): closed, its number could name any file */
		if (resampler_set_fds(r, -1, f->resamplefd))
			f->resamplefd = -1;
		return NULL;
	}
	virq_ack_notifier_remove(e->vm, r->gsi, resampler_ack, r);
	for (pp = &e->resamplers; *pp != r; pp = &(*pp)->next)
		;
	*pp = r->next;
	return r;
}

/* ---- the engine ---- */

static void gc_arm(struct irqfd_engine *e, bool on)
{
	struct itimerspec its = { 0 };

	if (on == e->gc_armed)
		return;
	if (on) {
		its.it_value.tv_nsec = VIRQ_IRQFD_GC_MS * 1000000L;
		its.it_interval = its.it_value;
	}
	timerfd_settime(e->gcfd, 0, &its, NULL);
	e->gc_armed = on;
}

static void reap(struct virq_vm *vm, struct irqfd *list, struct resampler *dead);

/* Caller holds the config lock; @f is published.  Returns a resampler that
 * lost its last user (see resampler_leave). */
static struct resampler *irqfd_unpublish(struct irqfd_engine *e, struct irqfd *f)
{
	struct resampler *dead = NULL;

	virq_rcu_assign_pointer(e->table->slot[f->slot], NULL);
	epoll_ctl(e->epfd, EPOLL_CTL_DEL, f->fd, NULL);
	if (f->resampler)
		dead = resampler_leave(e, f);
	e->nr_bound--;
	gc_arm(e, e->nr_bound > 0);
	return dead;
}

/* Queue an unpublished @f, and the resampler it left dead, for reap(). */
static void retire(struct irqfd *f, struct resampler *r, struct irqfd **stale,
		   struct resampler **dead)
{
	if (r) {
		r->next = *dead;
		*dead = r;
	}
	f->reap_next = *stale;
	*stale = f;
}

/* Unbind every irqfd whose caller closed (or reused) its descriptor. */
static void irqfd_gc(struct irqfd_engine *e)
{
	struct virq_vm *vm = e->vm;
	struct resampler *dead = NULL;
	struct irqfd *list = NULL;

	config_lock(vm);
	for (uint32_t i = 0; e->table && i < e->table->n; i++) {
		struct irqfd *f = e->table->slot[i];

		if (!f || f->user_fd < 0 || same_file(f->user_fd, f->fd, f->id) != 0)
			continue;
		retire(f, irqfd_unpublish(e, f), &list, &dead);
		__atomic_fetch_add(&e->auto_unbound, 1, __ATOMIC_RELAXED);
	}
	config_unlock(vm);
	reap(vm, list, dead);
}

/* Returns false when the engine stops. */
static bool engine_handle(struct irqfd_engine *e, const struct epoll_event *ev)
{
	uint64_t ticks;

	if (ev->data.u64 == KEY_STOP)
		return false;
	if (ev->data.u64 == KEY_GC) {
		/* one of the workers wins the tick */
		if (read(e->gcfd, &ticks, sizeof(ticks)) == sizeof(ticks))
			irqfd_gc(e);
		return true;
	}
	irqfd_event(e, ev->data.u64);
	return true;
}

static void *worker(void *arg)
{
	struct irqfd_engine *e = arg;
	struct epoll_event ev[EVENTS];

	for (;;) {
		int n = epoll_wait(e->epfd, ev, EVENTS, -1);

		for (int i = 0; i < n; i++)
			if (!engine_handle(e, &ev[i]))
				return NULL;
	}
}

static int epoll_add(int epfd, int fd, uint64_t key)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = key };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void engine_free(struct irqfd_engine *e)
{
	if (e->epfd >= 0)
		close(e->epfd);
	if (e->stopfd >= 0)
		close(e->stopfd);
	if (e->gcfd >= 0)
		close(e->gcfd);
	free(e->table);
	free(e);
}

/* The engine, created at first use (config lock). */
static int engine_get(struct virq_vm *vm, struct irqfd_engine **out)
{
	uint32_t want = vm->cfg.irqfd_workers;
	struct irqfd_engine *e = vm->irqfd;
	sigset_t all, old;
	int ret = 0;

	if (e) {
		*out = e;
		return 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return virq_fail(ENOMEM, "irqfd: out of memory");
	e->vm = vm;
	e->poll_mode = want == VIRQ_IRQFD_POLL;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->gcfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (e->epfd < 0 || e->stopfd < 0 || e->gcfd < 0 ||
	    epoll_add(e->epfd, e->stopfd, KEY_STOP) ||
	    epoll_add(e->epfd, e->gcfd, KEY_GC)) {
		ret = virq_fail(errno, "irqfd: cannot set up the event set: %s",
				strerror(errno));
		engine_free(e);
		return ret;
	}
	if (!e->poll_mode) {
		want = want ? want : 1;
		/* workers take no signals: they belong to the VMM's threads */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		for (; e->nr_workers < want; e->nr_workers++) {
			ret = pthread_create(&e->workers[e->nr_workers], NULL, worker, e);
			if (ret)
				break;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!e->nr_workers) {
			engine_free(e);
			return virq_fail(ret, "irqfd: cannot start a worker: %s",
					 strerror(ret));
		}
	}
	__atomic_store_n(&vm->irqfd, e, __ATOMIC_RELEASE);
	*out = e;
	return 0;
}

/* Find a free slot, growing the table (config lock). */
static int slot_alloc(struct irqfd_engine *e, uint32_t *slot)
{
	struct irqfd_table *old = e->table, *new;
	uint32_t n = old ? old->n : 0;

	for (uint32_t i = 0; i < n; i++) {
		if (!old->slot[i]) {
			*slot = i;
			return 0;
		}
	}
	new = calloc(1, sizeof(*new) + (n ? 2 * n : 64) * sizeof(new->slot[0]));
	if (!new)
		return virq_fail(ENOMEM, "irqfd: out of memory");
	new->n = n ? 2 * n : 64;
	if (n)
		memcpy(new->slot, old->slot, n * sizeof(old->slot[0]));
	virq_rcu_assign_pointer(e->table, new);
	if (old)
		virq_call_rcu(&old->rcu, free_rcu_obj);
	*slot = n;
	return 0;
}

/* After a grace period: close and free what was unpublished. */
static void reap(struct virq_vm *vm, struct irqfd *list, struct resampler *dead)
{
	if (!list && !dead)
		return;
	virq_synchronize_rcu();
	while (list) {
		struct irqfd *next = list->reap_next;

		close(list->fd);
		if (list->resamplefd >= 0)
			close(list->resamplefd);
		free(list);
		list = next;
	}
	while (dead) {
		struct resampler *next = dead->next;

		/* lower what the resampler held, unless a new one took over */
		config_lock(vm);
		if (!vm->irqfd || !resampler_find(vm->irqfd, dead->gsi))
			virq_set_irq(vm, dead->gsi, 0, VIRQ_SOURCE_RESAMPLE);
		config_unlock(vm);
		free(dead->fds);
		free(dead);
		dead = next;
	}
}

static int irqfd_bind(struct virq_vm *vm, int eventfd, uint32_t gsi, uint32_t flags,
		      int resamplefd, irqfd_hook_fn hook, void *hook_opaque)
{
	struct irqfd_engine *e;
	struct irqfd *f = NULL, *stale = NULL;
	struct resampler *dead = NULL;
	bool nested_ok = may_synchronize();
	uint64_t id, rid;
	int ret;

	ret = irqfd_identity(eventfd, &id);
	if (ret)
		return ret;
	if (flags & VIRQ_IRQFD_RESAMPLE) {
		ret = resamplefd < 0
			      ? virq_fail(EINVAL,
					  "irqfd_bind: RESAMPLE needs a resamplefd")
			      : irqfd_identity(resamplefd, &rid);
		if (ret)
			return ret;
	}

	config_lock(vm);
	if (msix_direct_holds(vm, id)) {
		ret = virq_fail(EBUSY,
				"irqfd_bind: eventfd %d is bound already (MSI-X, direct)",
				eventfd);
		goto out;
	}
	ret = engine_get(vm, &e);
	if (ret)
		goto out;
	for (uint32_t i = 0; e->table && i < e->table->n; i++) {
		struct irqfd *b = e->table->slot[i];

		if (!b)
			continue;
		if (b->id == id) {
			ret = virq_fail(
				EBUSY, "irqfd_bind: eventfd %d is bound already (%s %u)",
				eventfd, b->hook ? "MSI-X vector" : "GSI", b->gsi);
			goto out;
		}
		/* the caller's number now names another file: the old one was
		 * closed, its irqfd goes now rather than at the next GC tick
		 * (unless this thread may not wait for a grace period) */
		if (nested_ok && b->user_fd == eventfd &&
		    same_file(eventfd, b->fd, b->id) == 0) {
			retire(b, irqfd_unpublish(e, b), &stale, &dead);
			__atomic_fetch_add(&e->auto_unbound, 1, __ATOMIC_RELAXED);
		}
	}

	f = calloc(1, sizeof(*f));
	if (!f) {
		ret = virq_fail(ENOMEM, "irqfd_bind: out of memory");
		goto out;
	}
	f->id = id;
	/* owned: the binder keeps no number of its own to watch */
	f->user_fd = flags & IRQFD_OWNED ? -1 : eventfd;
	f->gsi = gsi;
	f->flags = flags & ~IRQFD_OWNED;
	f->hook = hook;
	f->hook_opaque = hook_opaque;
	f->resamplefd = -1;
	f->fd = fcntl(eventfd, F_DUPFD_CLOEXEC, 0);
	if (f->fd < 0 || ((flags & VIRQ_IRQFD_RESAMPLE) &&
			  (f->resamplefd = fcntl(resamplefd, F_DUPFD_CLOEXEC, 0)) < 0)) {
		ret = virq_fail(errno, "irqfd_bind: dup: %s", strerror(errno));
		goto fail;
	}
	ret = slot_alloc(e, &f->slot);
	if (ret)
		goto fail;
	if (flags & VIRQ_IRQFD_RESAMPLE) {
		ret = resampler_join(e, f);
		if (ret)
			goto fail;
	}
	f->gen = ++e->gen;
	virq_rcu_assign_pointer(e->table->slot[f->slot], f);
	/* level-triggered: a counter already nonzero fires at once */
	if (epoll_add(e->epfd, f->fd, (uint64_t)f->gen << 32 | f->slot)) {
		ret = virq_fail(errno, "irqfd_bind: epoll: %s", strerror(errno));
		virq_rcu_assign_pointer(e->table->slot[f->slot], NULL);
		retire(f, f->resampler ? resampler_leave(e, f) : NULL, &stale, &dead);
		f = NULL;
		goto out;
	}
	e->nr_bound++;
	gc_arm(e, true);
	f = NULL;
	goto out;

fail:
	if (f->fd >= 0)
		close(f->fd);
	if (f->resamplefd >= 0)
		close(f->resamplefd);
	free(f);
out:
	config_unlock(vm);
	reap(vm, stale, dead);
	return ret;
}

bool irqfd_engine_holds(struct virq_vm *vm, uint64_t id)
{
	const struct irqfd_engine *e = vm->irqfd;

	for (uint32_t i = 0; e && e->table && i < e->table->n; i++)
		if (e->table->slot[i] && e->table->slot[i]->id == id)
			return true;
	return false;
}

int virq_irqfd_bind(struct virq_vm *vm, int eventfd, uint32_t gsi, uint32_t flags,
		    int resamplefd)
{
	if (!vm)
		return virq_fail(EINVAL, "irqfd_bind: NULL vm");
	if (flags & ~VIRQ_IRQFD_RESAMPLE)
		return virq_fail(EINVAL, "irqfd_bind: unknown flags 0x%x", flags);
	if (gsi >= vm->router.limit)
		return virq_fail(EINVAL, "irqfd_bind: GSI %u beyond the limit %u", gsi,
				 vm->router.limit);
	return irqfd_bind(vm, eventfd, gsi, flags, resamplefd, NULL, NULL);
}

int irqfd_bind_hook(struct virq_vm *vm, int eventfd, irqfd_hook_fn hook, void *opaque,
		    uint32_t arg, bool owned)
{
	return irqfd_bind(vm, eventfd, arg, owned ? IRQFD_OWNED : 0, -1, hook, opaque);
}

/*
 * Unbind the irqfds matching (@eventfd's identity unless @all, @gsi unless
 * @all, @hook, @opaque): public ones have no hook, so the two never mix.
 */
static int irqfd_unbind(struct virq_vm *vm, int eventfd, uint32_t gsi, bool all,
			irqfd_hook_fn hook, void *opaque)
{
	struct resampler *dead = NULL;
	struct irqfd_engine *e;
	struct irqfd *list = NULL;
	uint64_t id = 0;
	int ret;

	if (!vm)
		return virq_fail(EINVAL, "irqfd_unbind: NULL vm");
	if (!may_synchronize())
		return virq_fail(EDEADLK,
				 "irqfd_unbind: not from a virq callback or device op");
	if (!all) {
		ret = irqfd_identity(eventfd, &id);
		if (ret)
			return ret;
	}
	config_lock(vm);
	e = vm->irqfd;
	for (uint32_t i = 0; e && e->table && i < e->table->n; i++) {
		struct irqfd *b = e->table->slot[i];

		if (!b || b->hook != hook || b->hook_opaque != opaque ||
		    (!all && (b->id != id || b->gsi != gsi)))
			continue;
		retire(b, irqfd_unpublish(e, b), &list, &dead);
		if (!all)
			break;
	}
	config_unlock(vm);
	reap(vm, list, dead);
	return 0;
}

int virq_irqfd_unbind(struct virq_vm *vm, int eventfd, uint32_t gsi)
{
	return irqfd_unbind(vm, eventfd, gsi, false, NULL, NULL);
}

int irqfd_unbind_hook(struct virq_vm *vm, int eventfd, irqfd_hook_fn hook, void *opaque,
		      uint32_t arg)
{
	return irqfd_unbind(vm, eventfd, arg, eventfd < 0, hook, opaque);
}

int virq_irqfd_poll_fd(struct virq_vm *vm)
{
	struct irqfd_engine *e;
	int ret;

	if (!vm)
		return virq_fail(EINVAL, "irqfd_poll_fd: NULL vm");
	if (vm->cfg.irqfd_workers != VIRQ_IRQFD_POLL)
		return virq_fail(EINVAL,
				 "irqfd_poll_fd: the VM runs irqfd worker threads");
	config_lock(vm);
	ret = engine_get(vm, &e);
	config_unlock(vm);
	return ret ? ret : e->epfd;
}

int virq_irqfd_dispatch(struct virq_vm *vm)
{
	struct epoll_event ev[EVENTS];
	struct irqfd_engine *e;
	int n, handled = 0;

	if (!vm)
		return virq_fail(EINVAL, "irqfd_dispatch: NULL vm");
	if (vm->cfg.irqfd_workers != VIRQ_IRQFD_POLL)
		return virq_fail(EINVAL,
				 "irqfd_dispatch: the VM runs irqfd worker threads");
	e = __atomic_load_n(&vm->irqfd, __ATOMIC_ACQUIRE);
	if (!e)
		return 0;
	do {
		n = epoll_wait(e->epfd, ev, EVENTS, 0);
		for (int i = 0; i < n; i++)
			engine_handle(e, &ev[i]);
		handled += n > 0 ? n : 0;
	} while (n == EVENTS);
	return handled;
}

void virq_irqfd_get_stats(struct virq_vm *vm, struct virq_irqfd_stats *st)
{
	struct irqfd_engine *e;

	if (!vm || !st)
		return;
	memset(st, 0, sizeof(*st));
	config_lock(vm);
	e = vm->irqfd;
	if (e) {
		st->bound = e->nr_bound;
		st->wakeups = __atomic_load_n(&e->wakeups, __ATOMIC_RELAXED);
		st->signals = __atomic_load_n(&e->signals, __ATOMIC_RELAXED);
		st->resamples = __atomic_load_n(&e->resamples, __ATOMIC_RELAXED);
		st->auto_unbound = __atomic_load_n(&e->auto_unbound, __ATOMIC_RELAXED);
	}
	config_unlock(vm);
}

/* VM teardown: stop the workers, then drop everything (no reader left). */
void irqfd_fini(struct virq_vm *vm)
{
	struct irqfd_engine *e = vm->irqfd;
	uint64_t one = 1;

	if (!e)
		return;
	if (write(e->stopfd, &one, sizeof(one)) != sizeof(one))
		abort(); /* a fresh eventfd cannot be full */
	for (unsigned i = 0; i < e->nr_workers; i++)
		pthread_join(e->workers[i], NULL);
	for (uint32_t i = 0; e->table && i < e->table->n; i++) {
		struct irqfd *f = e->table->slot[i];

		if (!f)
			continue;
		close(f->fd);
		if (f->resamplefd >= 0)
			close(f->resamplefd);
		free(f);
	}
	while (e->resamplers) {
		struct resampler *r = e->resamplers;

		e->resamplers = r->next;
		free(r->fds);
		free(r);
	}
	vm->irqfd = NULL;
	engine_free(e);
}
