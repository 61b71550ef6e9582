/* SPDX-License-Identifier: MIT */
/*
 * `expect`: read both sides, check that their units agree, compare them, and
 * report an expectation that does not hold with the values it saw.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "workload/scenario/script_int.h"

static void
fmt_val(char *b, size_t len, const struct val *v)
{
	if (v->missing)
		snprintf(b, len, "nothing (%s)", v->why);
	else if (v->kind == V_STR)
		snprintf(b, len, "%s", v->str);
	else if (v->kind == V_TIME)
		ims_script_fmt_time(b, len, v->n);
	else if (v->kind == V_ADDR)
		snprintf(b, len, "0x%" PRIx64, v->n);
	else
		snprintf(b, len, "%" PRIu64, v->n);
}

static bool
compare(uint64_t a, enum cmp_op op, uint64_t b)
{
	switch (op) {
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_GT:
		return a > b;
	default:
		return a >= b;
	}
}

/* Literals must say what they are when the other side is a time, and only then. */
IMS_NODISCARD static int
check_units(struct script *s, const struct operand *lit, const struct val *lv,
	    const struct operand *key, const struct val *kv)
{
	if (kv->kind == V_STR || lv->kind == V_STR)
		return RC_OK;
	if (kv->kind == V_TIME && lit->unit != IOMMUSIM_UNIT_NS && lit->num)
		return ims_script_error(s, "'%s' is a time: write '%s' with a unit (ns, us, ms, s)",
					ims_script_safe(s, key->text),
					ims_script_safe(s, lit->text));
	if (kv->kind != V_TIME && lit->unit == IOMMUSIM_UNIT_NS)
		return ims_script_error(s, "'%s' is not a time, but '%s' is",
					ims_script_safe(s, key->text),
					ims_script_safe(s, lit->text));
	return RC_OK;
}

int
ims_script_do_expect(struct script *s, const struct op *op)
{
	const struct operand *l = &op->lhs, *r = &op->rhs;
	char lb[96], rb[96], msg[512];
	struct val lv, rv;
	bool ok;
	int rc;

	rc = ims_script_read_operand(s, l, &lv);
	if (!rc)
		rc = ims_script_read_operand(s, r, &rv);
	if (rc)
		return rc;
	if (l->type == OPD_KEY && r->type != OPD_KEY)
		rc = check_units(s, r, &rv, l, &lv);
	else if (r->type == OPD_KEY && l->type != OPD_KEY)
		rc = check_units(s, l, &lv, r, &rv);
	else if (l->type == OPD_KEY && (lv.kind == V_TIME) != (rv.kind == V_TIME) &&
		 lv.kind != V_STR && rv.kind != V_STR)
		rc = ims_script_error(s, "cannot compare a time with a number ('%s', '%s')",
				      ims_script_safe(s, l->text), ims_script_safe(s, r->text));
	if (rc)
		return rc;
	if ((lv.kind == V_STR) != (rv.kind == V_STR))
		return ims_script_error(s, "cannot compare a word with a number ('%s', '%s')",
					ims_script_safe(s, l->text), ims_script_safe(s, r->text));
	if (lv.kind == V_STR && op->cmp != OP_EQ && op->cmp != OP_NE)
		return ims_script_error(s, "words compare only with == and !=");
	s->sum.expectations++;
	if (lv.missing || rv.missing)
		ok = false;
	else if (lv.kind == V_STR)
		ok = (strcmp(lv.str, rv.str) == 0) == (op->cmp == OP_EQ);
	else
		ok = compare(lv.n, op->cmp, rv.n);
	if (!ok) {
		s->sum.failed++;
		fmt_val(lb, sizeof(lb), &lv);
		fmt_val(rb, sizeof(rb), &rv);
		if (l->type == OPD_KEY && r->type == OPD_KEY)
			snprintf(msg, sizeof(msg), "expected %s%s%s %s %s%s%s, got %s and %s",
				 l->quoted ? "\"" : "", ims_script_safe(s, l->text),
				 l->quoted ? "\"" : "", ims_script_op_names[op->cmp],
				 r->quoted ? "\"" : "", ims_script_safe(s, r->text),
				 r->quoted ? "\"" : "", lb, rb);
		else if (l->type == OPD_KEY || r->type == OPD_KEY)
			snprintf(msg, sizeof(msg), "expected %s%s%s %s %s%s%s, got %s",
				 l->quoted ? "\"" : "", ims_script_safe(s, l->text),
				 l->quoted ? "\"" : "", ims_script_op_names[op->cmp],
				 r->quoted ? "\"" : "", ims_script_safe(s, r->text),
				 r->quoted ? "\"" : "", l->type == OPD_KEY ? lb : rb);
		else
			snprintf(msg, sizeof(msg), "expected %s %s %s", ims_script_safe(s, l->text),
				 ims_script_op_names[op->cmp], ims_script_safe(s, r->text));
		s->in_expect = true;
		ims_script_failure(s, "%s", msg);
		s->in_expect = false;
	}
	if (s->hooks && s->hooks->expectation) {
		char text[3 * MAX_TOKEN + 8];
		const struct iommusim_script_expectation e = {
			.script = s->name,
			.line = s->line,
			.iteration = s->iter,
			.text = text,
			.passed = ok,
			.message = ok ? "" : msg,
		};

		snprintf(text, sizeof(text), "%s%s%s %s %s%s%s", l->quoted ? "\"" : "", l->text,
			 l->quoted ? "\"" : "", ims_script_op_names[op->cmp], r->quoted ? "\"" : "",
			 r->text, r->quoted ? "\"" : "");
		s->hooks->expectation(s->hooks->priv, &e);
	}
	return RC_OK;
}
