/* SPDX-License-Identifier: MIT */
/*
 * Scenario scripts (docs/scenario.md), the entry points: tokenise and check the
 * whole script (lexer.c), then run it on a fresh simulation (exec.c); and the
 * script's state and its NAME:LINE reports of failures and errors.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/platform.h>
#include <iommusim/script.h>

#include "base/mem_int.h"
#include "workload/scenario/script_int.h"

#define AUTO_PHYS_BASE UINT64_C(0x40000000)

/* ---- reporting ---------------------------------------------------------------- */

/* User text made safe to print: control bytes as '?', long text cut. */
const char *
ims_script_safe(struct script *s, const char *t)
{
	char *b = s->sbuf[s->sidx++ & 3];
	size_t i, max = sizeof(s->sbuf[0]) - 4;

	for (i = 0; t[i] && i < max; i++)
		b[i] = (unsigned char)t[i] < 0x20 || (unsigned char)t[i] == 0x7f ? '?' : t[i];
	if (t[i])
		memcpy(&b[i], "...", 4);
	else
		b[i] = 0;
	return b;
}

static void vreport(struct script *s, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
vreport(struct script *s, const char *fmt, va_list ap)
{
	char msg[1024];
	int n;

	if (!s->err && !(s->hooks && s->hooks->stopped))
		return;
	if (s->line)
		n = snprintf(msg, sizeof(msg), "%s:%u: ", s->name, s->line);
	else
		n = snprintf(msg, sizeof(msg), "%s: ", s->name);
	if (s->iter >= 0 && n >= 0 && (size_t)n < sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, "[i=%" PRId64 "] ", s->iter);
	if (n >= 0 && (size_t)n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	if (s->err)
		fprintf(s->err, "%s\n", msg);
	/* An expectation's failure goes to its own hook (expect.c). */
	if (s->hooks && s->hooks->stopped && !s->in_expect)
		s->hooks->stopped(s->hooks->priv, msg);
}

/* Report a problem that stops the script; returns RC_ERR. */
int
ims_script_error(struct script *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(s, fmt, ap);
	va_end(ap);
	return RC_ERR;
}

/* Report a failure (an expectation, a DMA operation). */
void
ims_script_failure(struct script *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(s, fmt, ap);
	va_end(ap);
}

void
ims_script_note(struct script *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s->err)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(s->err, "%s:%u: note: %s\n", s->name, s->line, msg);
}

int
ims_script_setup_error(struct script *s, int ret, const char *fmt, ...)
{
	va_list ap;

	if (ret == -ENOMEM)
		return ims_script_oom(s);
	va_start(ap, fmt);
	vreport(s, fmt, ap);
	va_end(ap);
	return RC_ERR;
}

int
ims_script_oom(struct script *s)
{
	return ims_script_error(s, "out of memory");
}

/* ---- the public entry points ------------------------------------------------------- */

struct script *
ims_script_new(const char *name, FILE *out, FILE *err)
{
	struct script *s = ims_zalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->name = name ? name : "<string>";
	s->out = out;
	s->err = err;
	s->iter = -1;
	s->ncpus = 1;
	s->next_phys = AUTO_PHYS_BASE;
	return s;
}

void
ims_script_free(struct script *s, struct prog *pg)
{
	if (!s)
		return;
	ims_script_prog_free(pg);
	ims_script_teardown(s);
	ims_free(s);
}

/* Check (@p run false) or check and run @p text. */
static int
run_or_check(const char *text, const char *name, FILE *out, FILE *err,
	     const struct iommusim_script_hooks *hooks, struct iommusim_script_summary *summary,
	     bool run)
{
	struct prog pg = { 0 };
	uint64_t mem_failures = ims_mem_failures();
	struct script *s;
	int rc;

	if (summary)
		memset(summary, 0, sizeof(*summary));
	if (!text)
		return IOMMUSIM_SCRIPT_ERROR;
	if (hooks && !IMS_RESERVED_ZERO(hooks, reserved0)) {
		if (err)
			fprintf(err,
				"%s: the reserved members of the hooks are not NULL "
				"(zero-initialise them: docs/abi.md)\n",
				name ? name : "<string>");
		return IOMMUSIM_SCRIPT_ERROR;
	}
	s = ims_script_new(name, out, err);
	if (!s) {
		if (err)
			fprintf(err, "%s: out of memory\n", name ? name : "<string>");
		return IOMMUSIM_SCRIPT_ERROR;
	}
	s->hooks = hooks;
	rc = ims_script_prog_build(s, text, &pg);
	if (!rc && run) {
		s->iter = -1;
		rc = ims_script_run_range(s, &pg, 0, pg.n, -1);
	}
	if (!rc && s->sum.failed)
		rc = IOMMUSIM_SCRIPT_FAILED;
	if (summary)
		*summary = s->sum;
	/* As for a run (iommusim_run): an allocation of the simulator that
	 * failed on the way may have changed what the layers did, though they
	 * coped; the script's answer would then not be the model's. */
	/* Also after an error: it may be the failed allocation's consequence
	 * (a flush queue that could not be allocated leaves a strict domain). */
	if (ims_mem_failures() != mem_failures) {
		s->line = 0;
		s->iter = -1;
		/* reported, and the status below says so already */
		IMS_IGNORE(ims_script_error(s,
					    "out of memory: %" PRIu64
					    " allocations failed; the results above are not the "
					    "model's",
					    ims_mem_failures() - mem_failures));
		rc = IOMMUSIM_SCRIPT_ERROR;
	}
	ims_script_free(s, &pg);
	return rc;
}

int
iommusim_script_run_string(const char *text, const char *name, FILE *out, FILE *err,
			   struct iommusim_script_summary *summary)
{
	return run_or_check(text, name, out, err, NULL, summary, true);
}

int
iommusim_script_run_string_hooks(const char *text, const char *name, FILE *out, FILE *err,
				 const struct iommusim_script_hooks *hooks,
				 struct iommusim_script_summary *summary)
{
	return run_or_check(text, name, out, err, hooks, summary, true);
}

int
iommusim_script_check_string(const char *text, const char *name, FILE *err)
{
	return run_or_check(text, name, NULL, err, NULL, NULL, false);
}

/* The text of the file @p path, bounded; NULL with the reason on @p err. */
static void
close_script(FILE *f)
{
	if (f != stdin)
		fclose(f); /* read-only: nothing to lose */
}

static char *
read_script(const char *path, FILE *err)
{
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;

	if (!path)
		return NULL;
	/* "-" is standard input, read the same way and left open. */
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		if (err)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return NULL;
	}
	do {
		/* Bounded: a script larger than any real one (or /dev/zero) is
		 * refused before it is read whole. */
		if (len > IOMMUSIM_SCRIPT_MAX_BYTES) {
			ims_free(text);
			close_script(f);
			if (err)
				fprintf(err, "%s: too large (more than %" PRIu64 " bytes)\n", path,
					IOMMUSIM_SCRIPT_MAX_BYTES);
			return NULL;
		}
		if (len + 4096 + 1 > cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			char *nt = ims_zalloc(ncap);

			if (!nt) {
				ims_free(text);
				close_script(f);
				if (err)
					fprintf(err, "%s: out of memory\n", path);
				return NULL;
			}
			if (len)
				memcpy(nt, text, len);
			ims_free(text);
			text = nt;
			cap = ncap;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		if (err)
			fprintf(err, "%s: cannot read: %s\n", path, strerror(errno));
		close_script(f);
		ims_free(text);
		return NULL;
	}
	close_script(f);
	if (!text) {
		text = ims_zalloc(1);
		if (!text) {
			if (err)
				fprintf(err, "%s: out of memory\n", path);
			return NULL;
		}
	}
	text[len] = 0;
	if (strlen(text) != len) {
		unsigned line = 1;
		const char *p;

		for (p = text; *p; p++)
			line += *p == '\n';
		if (err)
			fprintf(err, "%s:%u: NUL byte in the script\n", path, line);
		ims_free(text);
		return NULL;
	}
	return text;
}

int
iommusim_script_run_file(const char *path, FILE *out, FILE *err,
			 struct iommusim_script_summary *summary)
{
	return iommusim_script_run_file_hooks(path, out, err, NULL, summary);
}

int
iommusim_script_run_file_hooks(const char *path, FILE *out, FILE *err,
			       const struct iommusim_script_hooks *hooks,
			       struct iommusim_script_summary *summary)
{
	char *text, *buf = NULL;
	size_t len = 0;
	FILE *e = err;
	int rc;

	if (summary)
		memset(summary, 0, sizeof(*summary));
	/* The reason a file cannot be read goes to the hook too: catch it. */
	if (hooks && hooks->stopped)
		e = open_memstream(&buf, &len);
	text = read_script(path, e ? e : err);
	if (e && e != err) {
		fclose(e);
		if (!text && buf && len) {
			if (buf[len - 1] == '\n')
				buf[len - 1] = '\0';
			if (err)
				fprintf(err, "%s\n", buf);
			hooks->stopped(hooks->priv, buf);
		}
		free(buf);
	}
	if (!text)
		return IOMMUSIM_SCRIPT_ERROR;
	rc = iommusim_script_run_string_hooks(text, strcmp(path, "-") ? path : "<stdin>", out, err,
					      hooks, summary);
	ims_free(text);
	return rc;
}

int
iommusim_script_check_file(const char *path, FILE *err)
{
	char *text = read_script(path, err);
	int rc;

	if (!text)
		return IOMMUSIM_SCRIPT_ERROR;
	rc = iommusim_script_check_string(text, strcmp(path, "-") ? path : "<stdin>", err);
	ims_free(text);
	return rc;
}
