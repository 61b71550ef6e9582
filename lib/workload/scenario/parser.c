/* SPDX-License-Identifier: MIT */
/*
 * Parsing one statement: numbers with their units, booleans and names, the
 * positional arguments and key=value options of each statement, and operands.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>
#include <iommusim/units.h>

#include "base/util_int.h"
#include "workload/scenario/script_int.h"

#define MAX_REPEAT UINT64_C(1000000) /* iterations of one repeat */
#define MAX_MAP_SIZE (UINT64_C(1) << 30)
#define MAX_CPUS 4096u

/* ---- numbers, units, names ------------------------------------------------------ */

/*
 * Every value is read by iommusim/units.h, the grammar of docs/cli.md that
 * job files and --set share; only the messages are the script's.
 */
IMS_NODISCARD static int
want_value(struct script *s, const char *key, const char *val, int ret, uint64_t max,
	   const char *what)
{
	if (ret == -ERANGE && max != UINT64_MAX)
		return ims_script_error(s, "'%s' is at most %" PRIu64 ", not %s", key, max,
					ims_script_safe(s, val));
	if (ret)
		return ims_script_error(s, "'%s' wants %s, not '%s'", key, what,
					ims_script_safe(s, val));
	return RC_OK;
}

/* A count: a number without a unit. */
IMS_NODISCARD static int
want_uint(struct script *s, const char *key, const char *val, uint64_t max, uint64_t *out)
{
	return want_value(s, key, val, iommusim_count_parse(val, 0, max, out), max, "a number");
}

/* A size or an address: bytes, with an optional size unit. */
IMS_NODISCARD static int
want_size(struct script *s, const char *key, const char *val, uint64_t max, uint64_t *out)
{
	return want_value(s, key, val, iommusim_size_parse(val, 0, max, out), max,
			  "a size in bytes (4096, 8k, 0x1000)");
}

IMS_NODISCARD static int
want_bool(struct script *s, const char *key, const char *val, bool *out)
{
	if (iommusim_bool_parse(val, out))
		return ims_script_error(s, "'%s' wants 0 or 1, not '%s'", key,
					ims_script_safe(s, val));
	return RC_OK;
}

/* A statement's time: a unit is required, but for 0. */
IMS_NODISCARD static int
want_time(struct script *s, const char *what, const char *val, uint64_t *ns)
{
	if (iommusim_time_parse(val, 0, 0, UINT64_MAX, ns))
		return ims_script_error(s,
					"'%s' wants a time with a unit (ns, us, ms, s), not '%s'",
					what, ims_script_safe(s, val));
	return RC_OK;
}

/* The count of a `repeat` (the lexer checks it, the runner reads it, after {i}). */
int
ims_script_repeat_count(struct script *s, const char *val, uint64_t *count)
{
	return want_uint(s, "repeat", val, MAX_REPEAT, count);
}

static bool
valid_name(const char *t)
{
	size_t i;

	if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || *t == '_'))
		return false;
	for (i = 1; t[i]; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-'))
			return false;
	return i < MAX_NAME && !ims_script_streq(t, "platform") && !ims_script_streq(t, "time");
}

/* Times print in the largest unit that keeps them exact. */
void
ims_script_fmt_time(char *b, size_t len, uint64_t ns)
{
	if (ns && !(ns % UINT64_C(1000000000)))
		snprintf(b, len, "%" PRIu64 "s", ns / UINT64_C(1000000000));
	else if (ns && !(ns % NS_PER_MS))
		snprintf(b, len, "%" PRIu64 "ms", ns / NS_PER_MS);
	else if (ns && !(ns % 1000))
		snprintf(b, len, "%" PRIu64 "us", ns / 1000);
	else
		snprintf(b, len, "%" PRIu64 "ns", ns);
}

/* ---- statements ------------------------------------------------------------------ */

static const struct {
	const char *name;
	unsigned min_pos, max_pos; /* positional tokens after the statement name */
} stmt_specs[] = {
	[ST_PLATFORM] = { "platform", 1, 1 },
	[ST_CPUS] = { "cpus", 1, 1 },
	[ST_FUNCTION] = { "function", 1, 1 },
	[ST_DOMAIN] = { "domain", 1, 1 },
	[ST_MAP] = { "map", 2, 2 },
	[ST_UNMAP] = { "unmap", 1, 1 },
	[ST_DMB] = { "dmb", 3, 3 },
	[ST_ADVANCE] = { "advance", 1, 1 },
	[ST_FLUSH] = { "flush", 1, 1 },
	[ST_RESET] = { "reset", 1, 1 },
	[ST_EXPECT] = { "expect", 3, 3 },
	[ST_PRINT] = { "print", 1, 1 },
	[ST_ECHO] = { "echo", 0, MAX_TOKENS },
	[ST_REPEAT] = { "repeat", 1, 1 },
	[ST_END] = { "end", 0, 0 },
};

/* The name of a statement kind, for messages. */
const char *
ims_script_stmt_name(enum st_kind kind)
{
	return stmt_specs[kind].name;
}

const char *const ims_script_op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

const char *const ims_script_policy_names[] = {
	"kernel", "strict", "lazy-percpu", "lazy-single", "legacy", "legacy-strict",
};

/* key=value, unquoted, key non-empty. */
static bool
split_opt(const struct tok *t, char *key, size_t keylen, const char **val)
{
	const char *eq;

	if (t->quoted || !(eq = strchr(t->s, '=')) || eq == t->s || (size_t)(eq - t->s) >= keylen)
		return false;
	memcpy(key, t->s, (size_t)(eq - t->s));
	key[eq - t->s] = 0;
	*val = eq + 1;
	return true;
}

IMS_NODISCARD static int
parse_operand(struct script *s, const struct tok *t, struct operand *o)
{
	const char *dot;
	char prop[MAX_TOKEN];
	size_t i;

	memset(o, 0, sizeof(*o));
	o->text = t->s;
	o->quoted = t->quoted;
	if (!t->s[0])
		return ims_script_error(s, "empty operand");
	if (t->s[0] >= '0' && t->s[0] <= '9') {
		o->type = OPD_NUM;
		if (iommusim_quantity_parse(t->s, &o->num, &o->unit))
			return ims_script_error(s, "bad number '%s'", ims_script_safe(s, t->s));
		return RC_OK;
	}
	if (ims_script_streq(t->s, "time")) {
		o->type = OPD_KEY;
		o->key = NULL;
		return RC_OK;
	}
	/* A platform's name is a word, dot and all ("kvm-qemu7.1"). */
	dot = iommusim_profile_find(t->s) ? NULL : strchr(t->s, '.');
	if (!dot) {
		bool b;

		if (!t->quoted && !iommusim_bool_parse(t->s, &b)) {
			o->type = OPD_NUM;
			o->num = b;
			return RC_OK;
		}
		o->type = OPD_WORD;
		return RC_OK;
	}
	o->type = OPD_KEY;
	if ((size_t)(dot - t->s) >= sizeof(o->obj))
		return ims_script_error(s, "unknown key '%s'", ims_script_safe(s, t->s));
	memcpy(o->obj, t->s, (size_t)(dot - t->s));
	o->obj[dot - t->s] = 0;
	/* The kernel's spelling ("Global RPCITs") and ours (global_rpcits) are one. */
	for (i = 0; dot[1 + i] && i < sizeof(prop) - 1; i++) {
		char c = dot[1 + i];

		prop[i] = c == ' ' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	prop[i] = 0;
	if (!ims_script_streq(o->obj, "platform") && !valid_name(o->obj))
		return ims_script_error(s, "unknown key '%s'", ims_script_safe(s, t->s));
	o->key =
		ims_script_keydef_find(ims_script_streq(o->obj, "platform") ? C_PLATFORM : 0, prop);
	if (!o->key)
		return ims_script_error(s, "unknown key '%s'", ims_script_safe(s, t->s));
	/* A name may be a domain, a function, a handle or a platform's label:
	 * the class is checked when the key is read; here, only that some
	 * class has the property. */
	return RC_OK;
}

IMS_NODISCARD static int
stmt_kind(struct script *s, const struct tok *t, enum st_kind *kind)
{
	size_t i;

	if (!t->quoted)
		for (i = 0; i < IMS_ARRAY_SIZE(stmt_specs); i++)
			if (ims_script_streq(t->s, stmt_specs[i].name)) {
				*kind = (enum st_kind)i;
				return RC_OK;
			}
	return ims_script_error(s, "unknown statement '%s'", ims_script_safe(s, t->s));
}

IMS_NODISCARD static int
check_name(struct script *s, const char *what, const struct tok *t)
{
	if (t->quoted || !valid_name(t->s))
		return ims_script_error(
			s,
			"bad %s name '%s' (a letter or '_', then letters, digits, '_', "
			"'-'; not 'platform' or 'time')",
			what, ims_script_safe(s, t->s));
	return RC_OK;
}

/* Options of one statement kind. */
IMS_NODISCARD static int
parse_option(struct script *s, struct op *op, const char *key, const char *val)
{
	uint64_t x;
	int rc;

	switch (op->kind) {
	case ST_PLATFORM: {
		/* The platform's rows of the key table (job.h): its own and the profile's. */
		const struct iommusim_key *k =
			iommusim_key_find(IOMMUSIM_KEY_SCRIPT | IOMMUSIM_KEY_PROFILE, key);
		struct iommusim_key_value v;
		char msg[160];

		if (ims_script_streq(key, "label")) {
			if (!valid_name(val))
				return ims_script_error(
					s,
					"bad platform label '%s' (a letter or '_', then letters, "
					"digits, '_', '-'; not 'platform' or 'time')",
					ims_script_safe(s, val));
			op->label = val;
			return RC_OK;
		}
		if (ims_script_streq(key, "cmdline")) {
			/* The guest kernel's boot parameters, read as the kernel
			 * reads them (KERNEL_SPEC §2.6, §3.3; iommusim/cmdline.h). */
			char cmsg[320];

			if (iommusim_cmdline_parse(val, &op->cmdline, cmsg, sizeof(cmsg)))
				return ims_script_error(s, "cmdline: %s", cmsg);
			op->has_cmdline = true;
			return RC_OK;
		}
		if (!k)
			return ims_script_error(s,
						"unknown platform key '%s' (see `iommusim keys`)",
						ims_script_safe(s, key));
		if (iommusim_key_parse(k, val, &v, msg, sizeof(msg)))
			return ims_script_error(s, "%s", msg);
		if (k->scope == IOMMUSIM_KEY_PROFILE) {
			rc = iommusim_key_store(k, &op->profile, &v);
			/* The row's checks passed in the parse: the store cannot fail. */
			ims_assert(!rc);
		} else if (ims_script_streq(key, "memory")) {
			op->memory = v.u;
		} else {
			op->factor_set = true;
			op->factor = (uint32_t)v.u;
		}
		return RC_OK;
	}
	case ST_FUNCTION:
		if (ims_script_streq(key, "fid")) {
			op->fid_set = true;
			rc = want_uint(s, key, val, UINT32_MAX, &x);
			op->fid = (uint32_t)x;
			return rc;
		}
		if (ims_script_streq(key, "tlb_refresh")) {
			bool b = false;

			rc = want_bool(s, key, val, &b);
			op->tlb_refresh = b;
			return rc;
		}
		if (ims_script_streq(key, "rtr_avail"))
			return want_bool(s, key, val, &op->rtr_avail);
		if (ims_script_streq(key, "start_dma"))
			return want_size(s, key, val, UINT64_MAX, &op->start_dma);
		if (ims_script_streq(key, "end_dma"))
			return want_size(s, key, val, UINT64_MAX, &op->end_dma);
		break;
	case ST_DOMAIN:
		if (ims_script_streq(key, "policy")) {
			size_t i;

			for (i = 0; i < IMS_ARRAY_SIZE(ims_script_policy_names); i++)
				if (ims_script_streq(val, ims_script_policy_names[i])) {
					op->pol = (enum policy)i;
					op->pol_set = true;
					return RC_OK;
				}
			return ims_script_error(
				s,
				"unknown policy '%s' (kernel, strict, lazy-percpu, lazy-single, "
				"legacy, legacy-strict)",
				ims_script_safe(s, val));
		}
		if (ims_script_streq(key, "devices")) {
			if (!*val)
				return ims_script_error(s, "'devices' wants a list of functions");
			op->devices = val;
			return RC_OK;
		}
		if (ims_script_streq(key, "fq_size") || ims_script_streq(key, "fq_timeout")) {
			/* The queue keys of job files and --set, with their rules. */
			struct iommusim_policy pol = { .fq_size = op->fq_size,
						       .fq_timeout_ms = op->fq_timeout_ms };
			char msg[160];

			if (iommusim_policy_set(&pol, key, val, msg, sizeof(msg)))
				return ims_script_error(s, "%s", msg);
			op->fq_size = pol.fq_size;
			op->fq_timeout_ms = pol.fq_timeout_ms;
			return RC_OK;
		}
		if (ims_script_streq(key, "force_fq"))
			return want_bool(s, key, val, &op->force_fq);
		break;
	case ST_MAP:
		if (ims_script_streq(key, "size")) {
			rc = want_size(s, key, val, MAX_MAP_SIZE, &op->size);
			if (!rc && !op->size)
				return ims_script_error(s, "'size' must not be 0");
			return rc;
		}
		if (ims_script_streq(key, "phys")) {
			op->phys_set = true;
			return want_size(s, key, val, UINT64_MAX, &op->phys);
		}
		if (ims_script_streq(key, "dir")) {
			if (ims_script_streq(val, "bidi") || ims_script_streq(val, "bidirectional"))
				op->dir = IOMMUSIM_DMA_BIDIRECTIONAL;
			else if (ims_script_streq(val, "to") || ims_script_streq(val, "to_device"))
				op->dir = IOMMUSIM_DMA_TO_DEVICE;
			else if (ims_script_streq(val, "from") ||
				 ims_script_streq(val, "from_device"))
				op->dir = IOMMUSIM_DMA_FROM_DEVICE;
			else
				return ims_script_error(s, "'dir' wants bidi, to or from, not '%s'",
							ims_script_safe(s, val));
			return RC_OK;
		}
		break;
	default:
		break;
	}
	/* options several statements share */
	if ((op->kind == ST_MAP || op->kind == ST_UNMAP) && ims_script_streq(key, "fails"))
		return want_bool(s, key, val, &op->fails);
	if ((op->kind == ST_MAP || op->kind == ST_UNMAP || op->kind == ST_FLUSH) &&
	    ims_script_streq(key, "cpu")) {
		op->cpu_set = true;
		rc = want_uint(s, key, val, MAX_CPUS - 1, &x);
		op->cpu = (unsigned)x;
		return rc;
	}
	return ims_script_error(s, "'%s' takes no option '%s'", stmt_specs[op->kind].name,
				ims_script_safe(s, key));
}

/* Flags: options without a value. */
IMS_NODISCARD static int
parse_flag(struct script *s, struct op *op, const struct tok *t)
{
	if (op->kind == ST_FUNCTION && !t->quoted && ims_script_streq(t->s, "ism")) {
		op->ism = true;
		return RC_OK;
	}
	if (strchr(t->s, '=') && !t->quoted)
		return ims_script_error(s, "bad option '%s'", ims_script_safe(s, t->s));
	return ims_script_error(s, "'%s' takes at most %u argument%s; what is '%s'?",
				stmt_specs[op->kind].name, stmt_specs[op->kind].max_pos,
				stmt_specs[op->kind].max_pos == 1 ? "" : "s",
				ims_script_safe(s, t->s));
}

/*
 * Parse and check one statement (tokens already substituted). Names are not
 * looked up here: they may be declared later, or by a repeat.
 */
int
ims_script_parse_stmt(struct script *s, const struct tok *t, unsigned n, struct op *op)
{
	char seen[MAX_TOKENS][32];
	unsigned npos = 0, nseen = 0, i;
	int rc;

	memset(op, 0, sizeof(*op));
	op->tlb_refresh = -1;
	rc = stmt_kind(s, &t[0], &op->kind);
	if (rc)
		return rc;
	if (op->kind == ST_ECHO) {
		op->tok = t + 1;
		op->ntok = n - 1;
		return RC_OK;
	}
	if (op->kind == ST_PLATFORM && n > 1) {
		const struct iommusim_profile *p = iommusim_profile_find(t[1].s);

		/* Scripts drive the s390 stack: the x86 profiles do not apply. */
		if (!p || t[1].quoted || p->kind > IOMMUSIM_PLATFORM_KVM)
			return ims_script_error(
				s, "unknown platform '%s' (lpar, zvm, kvm or kvm-qemu7.1)",
				ims_script_safe(s, t[1].s));
		op->profile = *p;
	}
	/* positional tokens, then options */
	for (i = 1; i < n; i++) {
		char key[32];
		const char *val;
		unsigned j;

		if (npos < stmt_specs[op->kind].max_pos &&
		    (op->kind == ST_EXPECT || t[i].quoted || !strchr(t[i].s, '='))) {
			const char **slot = npos == 0 ? &op->a : npos == 1 ? &op->b : &op->c;

			*slot = t[i].s;
			npos++;
			continue;
		}
		if (!split_opt(&t[i], key, sizeof(key), &val)) {
			rc = parse_flag(s, op, &t[i]);
			if (rc)
				return rc;
			continue;
		}
		for (j = 0; j < nseen; j++)
			if (ims_script_streq(seen[j], key))
				return ims_script_error(s, "option '%s' given twice",
							ims_script_safe(s, key));
		memcpy(seen[nseen++], key, sizeof(key));
		rc = parse_option(s, op, key, val);
		if (rc)
			return rc;
	}
	if (npos < stmt_specs[op->kind].min_pos)
		return ims_script_error(s, "'%s' needs %u argument%s", stmt_specs[op->kind].name,
					stmt_specs[op->kind].min_pos,
					stmt_specs[op->kind].min_pos == 1 ? "" : "s");
	switch (op->kind) {
	case ST_PLATFORM:
		if (op->has_cmdline && op->cmdline.aperture_set && op->factor_set)
			return ims_script_error(
				s, "aperture_factor= and the cmdline's s390_iommu_aperture= both "
				   "set the aperture factor: give one");
		return RC_OK;
	case ST_CPUS:
		rc = want_uint(s, "cpus", op->a, MAX_CPUS, &op->n);
		if (!rc && !op->n)
			return ims_script_error(s, "'cpus' wants 1 to %u", MAX_CPUS);
		return rc;
	case ST_FUNCTION:
		return check_name(s, "function", &t[1]);
	case ST_DOMAIN:
		rc = check_name(s, "domain", &t[1]);
		if (rc)
			return rc;
		if (!op->pol_set)
			return ims_script_error(s, "'domain' needs policy=");
		if (!op->devices)
			return ims_script_error(s, "'domain' needs devices=");
		if ((op->fq_size || op->fq_timeout_ms || op->force_fq) &&
		    (op->pol == P_STRICT || op->pol >= P_LEGACY))
			return ims_script_error(
				s, "fq_size, fq_timeout and force_fq need a lazy policy "
				   "(kernel, lazy-percpu, lazy-single)");
		return RC_OK;
	case ST_MAP:
		rc = check_name(s, "handle", &t[1]);
		if (rc)
			return rc;
		if (!op->size)
			op->size = PAGE;
		return check_name(s, "domain", &t[2]);
	case ST_UNMAP:
		return check_name(s, "handle", &t[1]);
	case ST_DMB:
		rc = check_name(s, "function", &t[1]);
		if (!rc)
			rc = check_name(s, "handle", &t[2]);
		if (rc)
			return rc;
		if (ims_script_streq(op->c, "register"))
			op->reg = true;
		else if (!ims_script_streq(op->c, "unregister"))
			return ims_script_error(s, "'dmb' wants register or unregister, not '%s'",
						ims_script_safe(s, op->c));
		return RC_OK;
	case ST_ADVANCE:
		rc = want_time(s, "advance", op->a, &op->n);
		return rc;
	case ST_FLUSH:
	case ST_RESET:
		return check_name(s, "domain", &t[1]);
	case ST_PRINT:
		if (ims_script_streq(op->a, "platform") && !t[1].quoted)
			return RC_OK;
		return check_name(s, "object", &t[1]);
	case ST_REPEAT:
		rc = want_uint(s, "repeat", op->a, MAX_REPEAT, &op->n);
		return rc;
	case ST_EXPECT: {
		size_t k;

		for (k = 0; k < IMS_ARRAY_SIZE(ims_script_op_names); k++)
			if (!t[2].quoted && ims_script_streq(op->b, ims_script_op_names[k]))
				break;
		if (k == IMS_ARRAY_SIZE(ims_script_op_names))
			return ims_script_error(s, "unknown comparison '%s' (==, !=, <, <=, >, >=)",
						ims_script_safe(s, op->b));
		op->cmp = (enum cmp_op)k;
		rc = parse_operand(s, &t[1], &op->lhs);
		if (!rc)
			rc = parse_operand(s, &t[3], &op->rhs);
		return rc;
	}
	default:
		return RC_OK;
	}
}
