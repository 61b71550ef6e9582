/* SPDX-License-Identifier: MIT */
/*
 * A script's text into a program: lines split into tokens, {i} substituted,
 * repeat blocks matched, and every statement checked before anything runs.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem_int.h"
#include "workload/scenario/script_int.h"

#define MAX_LINE 4096 /* bytes per line */
#define MAX_DEPTH 16 /* nested repeats */

/* ---- {i} substitution ------------------------------------------------------------ */

/*
 * Copy @in to @out with `{i}` replaced by @iter and `{i%N}` by @iter mod N.
 * @iter < 0: outside a repeat, where any `{` is an error.
 */
int
ims_script_subst(struct script *s, const struct tok *in, unsigned n, int64_t iter, struct tok *out,
		 char (*bufs)[MAX_TOKEN])
{
	unsigned k;

	for (k = 0; k < n; k++) {
		const char *p = in[k].s;
		size_t len = 0;

		out[k].quoted = in[k].quoted;
		if (!strchr(p, '{')) {
			out[k].s = p;
			continue;
		}
		while (*p) {
			char num[32];
			uint64_t mod = 0;
			const char *q;
			size_t nl;

			if (*p != '{') {
				if (len + 1 >= MAX_TOKEN)
					return ims_script_error(
						s, "token too long after substitution");
				bufs[k][len++] = *p++;
				continue;
			}
			if (strncmp(p, "{i}", 3) && strncmp(p, "{i%", 3))
				return ims_script_error(s,
							"bad substitution in '%s' ({i} or {i%%N})",
							ims_script_safe(s, in[k].s));
			if (p[2] == '%') {
				char *end;

				q = p + 3;
				if (*q < '1' || *q > '9')
					return ims_script_error(
						s, "bad substitution in '%s' ({i} or {i%%N})",
						ims_script_safe(s, in[k].s));
				errno = 0;
				mod = strtoull(q, &end, 10);
				if (errno || *end != '}')
					return ims_script_error(
						s, "bad substitution in '%s' ({i} or {i%%N})",
						ims_script_safe(s, in[k].s));
				q = end + 1;
			} else {
				q = p + 3;
			}
			if (iter < 0)
				return ims_script_error(s, "'{i}' outside a repeat");
			snprintf(num, sizeof(num), "%" PRIu64,
				 mod ? (uint64_t)iter % mod : (uint64_t)iter);
			nl = strlen(num);
			if (len + nl >= MAX_TOKEN)
				return ims_script_error(s, "token too long after substitution");
			memcpy(&bufs[k][len], num, nl);
			len += nl;
			p = q;
		}
		bufs[k][len] = 0;
		out[k].s = bufs[k];
	}
	return RC_OK;
}

/* ---- tokenising ------------------------------------------------------------------ */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split one line (a copy owned by @st) into @tok. */
IMS_NODISCARD static int
tokenize(struct script *s, struct stmt *st, struct tok *tok)
{
	char *p = st->buf;

	st->ntok = 0;
	for (;;) {
		char *start;

		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			return RC_OK;
		if (st->ntok == MAX_TOKENS)
			return ims_script_error(s, "too many tokens (at most %d)", MAX_TOKENS);
		if (*p == '"') {
			start = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p)
				return ims_script_error(s, "unterminated quote");
			*p++ = 0;
			if (*p && !is_blank(*p) && *p != '#')
				return ims_script_error(s, "text right after a closing quote");
			tok[st->ntok].quoted = true;
		} else {
			start = p;
			while (*p && !is_blank(*p) && *p != '#') {
				if (*p == '"' && p > start && p[-1] == '=' &&
				    memchr(start, '=', (size_t)(p - start)) == p - 1) {
					/* key="a value with blanks": the option's value
					 * quoted, the quotes dropped (cmdline="..."). */
					char *q = strchr(p + 1, '"');

					if (!q)
						return ims_script_error(s, "unterminated quote");
					memmove(p, p + 1, (size_t)(q - p - 1));
					p = q - 1;
					*p = 0;
					if (q[1] && !is_blank(q[1]) && q[1] != '#')
						return ims_script_error(
							s, "text right after a closing quote");
					/* the blanks in the value stay; scanning goes on
					 * after the closing quote */
					p = q + 1;
					if (*p == '#')
						*p = 0;
					else if (*p)
						*p++ = 0;
					tok[st->ntok].quoted = false;
					goto done;
				}
				if (*p == '"')
					return ims_script_error(s, "a quote inside a word");
				p++;
			}
			if (*p == '#') {
				*p = 0; /* the comment starts here */
				tok[st->ntok].quoted = false;
				tok[st->ntok++].s = start;
				return RC_OK;
			}
			if (*p)
				*p++ = 0;
			tok[st->ntok].quoted = false;
		}
done:
		for (char *c = start; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
				return ims_script_error(s, "control character in '%s'",
							ims_script_safe(s, start));
		if (strlen(start) >= MAX_TOKEN)
			return ims_script_error(s, "token too long (at most %d bytes)",
						MAX_TOKEN - 1);
		tok[st->ntok++].s = start;
	}
}

void
ims_script_prog_free(struct prog *pg)
{
	size_t i;

	for (i = 0; i < pg->n; i++) {
		ims_free(pg->v[i]->tok);
		ims_free(pg->v[i]->buf);
		ims_free(pg->v[i]);
	}
	ims_free(pg->v);
	memset(pg, 0, sizeof(*pg));
}

IMS_NODISCARD static int
prog_push(struct prog *pg, struct stmt *st)
{
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? 2 * pg->cap : 32;
		struct stmt **v = ims_zalloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (pg->n)
			memcpy(v, pg->v, pg->n * sizeof(*v));
		ims_free(pg->v);
		pg->v = v;
		pg->cap = cap;
	}
	pg->v[pg->n++] = st;
	return 0;
}

bool
ims_script_is_word(const struct tok *t, const char *w)
{
	return !t->quoted && ims_script_streq(t->s, w);
}

/* Check a simple statement's tokens as they will run (with {i} = 0 inside repeats). */
IMS_NODISCARD static int
check_simple(struct script *s, const struct tok *t, unsigned n, bool in_repeat)
{
	char bufs[MAX_TOKENS][MAX_TOKEN];
	struct tok sub[MAX_TOKENS];
	struct op op;
	int rc;

	rc = ims_script_subst(s, t, n, in_repeat ? 0 : -1, sub, bufs);
	if (rc)
		return rc;
	return ims_script_parse_stmt(s, sub, n, &op);
}

IMS_NODISCARD static int
check_tokens(struct script *s, const struct tok *t, unsigned n, bool in_repeat)
{
	char bufs[2][MAX_TOKEN];
	struct tok sub[2];
	uint64_t count;
	int rc;

	if (!ims_script_is_word(&t[0], "repeat") || n <= 2)
		return check_simple(s, t, n, in_repeat);
	rc = ims_script_subst(s, t, 2, in_repeat ? 0 : -1, sub, bufs);
	if (rc)
		return rc;
	rc = ims_script_repeat_count(s, sub[1].s, &count);
	if (rc)
		return rc;
	if (ims_script_is_word(&t[2], "end") || (ims_script_is_word(&t[2], "repeat") && n == 4))
		return ims_script_error(s, "a one-line repeat cannot open or close a block");
	return check_tokens(s, t + 2, n - 2, true);
}

/* Split @text into statements, match repeat blocks, and check everything. */
int
ims_script_prog_build(struct script *s, const char *text, struct prog *pg)
{
	size_t stack[MAX_DEPTH], depth = 0, i;
	struct tok tok[MAX_TOKENS];
	const char *p = text;
	unsigned line = 0;
	int rc;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct stmt *st;

		s->line = ++line;
		if (len > MAX_LINE)
			return ims_script_error(s, "line too long (at most %d bytes)", MAX_LINE);
		st = ims_zalloc(sizeof(*st));
		if (!st)
			return ims_script_oom(s);
		st->buf = ims_zalloc(len + 1);
		if (!st->buf || prog_push(pg, st)) {
			ims_free(st->buf);
			ims_free(st);
			return ims_script_oom(s);
		}
		memcpy(st->buf, p, len);
		st->line = line;
		rc = tokenize(s, st, tok);
		if (rc)
			return rc;
		if (st->ntok) {
			st->tok = ims_zalloc(st->ntok * sizeof(*st->tok));
			if (!st->tok)
				return ims_script_oom(s);
			memcpy(st->tok, tok, st->ntok * sizeof(*st->tok));
		}
		if (!st->ntok) {
			ims_free(st->buf);
			ims_free(st);
			pg->n--;
		} else {
			st->depth = (unsigned)depth;
			if (ims_script_is_word(&st->tok[0], "repeat") && st->ntok == 2) {
				if (depth == MAX_DEPTH)
					return ims_script_error(
						s, "repeats nested too deep (at most %d)",
						MAX_DEPTH);
				st->block = true;
				stack[depth++] = pg->n - 1;
			} else if (ims_script_is_word(&st->tok[0], "end")) {
				if (st->ntok != 1)
					return ims_script_error(s, "'end' takes no arguments");
				if (!depth)
					return ims_script_error(s, "'end' without 'repeat'");
				pg->v[stack[--depth]]->end = pg->n - 1;
				st->depth = (unsigned)depth;
			}
		}
		p = nl ? nl + 1 : p + len;
	}
	if (depth) {
		s->line = pg->v[stack[depth - 1]]->line;
		return ims_script_error(s, "'repeat' without 'end'");
	}
	for (i = 0; i < pg->n; i++) {
		struct stmt *st = pg->v[i];

		s->line = st->line;
		if (ims_script_is_word(&st->tok[0], "end"))
			continue;
		if (st->block) {
			char bufs[2][MAX_TOKEN];
			struct tok sub[2];
			uint64_t n;

			rc = ims_script_subst(s, st->tok, 2, st->depth ? 0 : -1, sub, bufs);
			if (!rc)
				rc = ims_script_repeat_count(s, sub[1].s, &n);
		} else {
			rc = check_tokens(s, st->tok, st->ntok, st->depth > 0);
		}
		if (rc)
			return rc;
	}
	return RC_OK;
}
