/* SPDX-License-Identifier: MIT */
/*
 * The script's one namespace of functions, domains and handles: a hash table
 * with open addressing, and looking names up and declaring them.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/mem_int.h"
#include "workload/scenario/script_int.h"

/* ---- the names table ---------------------------------------------------------- */

static const char *
obj_name(const void *o)
{
	switch (*(const enum okind *)o) {
	case O_FN:
		return ((const struct sfn *)o)->name;
	case O_DOM:
		return ((const struct sdom *)o)->name;
	case O_PLAT:
		return ((const struct splat *)o)->name;
	default:
		return ((const struct shandle *)o)->name;
	}
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return h;
}

void *
ims_script_names_find(const struct names *t, const char *name)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = hash_str(name) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (ims_script_streq(obj_name(t->slot[i]), name))
			return t->slot[i];
	return NULL;
}

static void
names_insert(struct names *t, void *o)
{
	size_t i = hash_str(obj_name(o)) & (t->cap - 1);

	while (t->slot[i])
		i = (i + 1) & (t->cap - 1);
	t->slot[i] = o;
	t->n++;
}

int
ims_script_names_add(struct names *t, void *o)
{
	if (2 * (t->n + 1) > t->cap) {
		struct names nt = { 0 };
		size_t i;

		nt.cap = t->cap ? 2 * t->cap : 64;
		nt.slot = ims_zalloc(nt.cap * sizeof(*nt.slot));
		if (!nt.slot)
			return -ENOMEM;
		for (i = 0; i < t->cap; i++)
			if (t->slot[i])
				names_insert(&nt, t->slot[i]);
		ims_free(t->slot);
		*t = nt;
	}
	names_insert(t, o);
	return 0;
}

/* ---- lookups ------------------------------------------------------------------------ */

void *
ims_script_lookup(struct script *s, const char *name, enum okind kind, const char *what, int *rc)
{
	void *o = ims_script_names_find(&s->names, name);

	*rc = RC_OK;
	if (!o)
		*rc = ims_script_error(s, "unknown %s '%s'", what, ims_script_safe(s, name));
	else if (*(enum okind *)o != kind)
		*rc = ims_script_error(s, "'%s' is not a %s", ims_script_safe(s, name), what);
	return *rc ? NULL : o;
}

const char *
ims_script_kind_name(enum okind k)
{
	return k == O_FN ? "function" : k == O_DOM ? "domain" : k == O_PLAT ? "platform" : "handle";
}

int
ims_script_declare(struct script *s, void *o)
{
	void *old = ims_script_names_find(&s->names, obj_name(o));

	if (old)
		return ims_script_error(s, "'%s' is already a %s", ims_script_safe(s, obj_name(o)),
					ims_script_kind_name(*(enum okind *)old));
	if (ims_script_names_add(&s->names, o))
		return ims_script_oom(s);
	return RC_OK;
}
