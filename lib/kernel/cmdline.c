/* SPDX-License-Identifier: MIT */
/*
 * The kernel command line's IOMMU parameters (KERNEL_SPEC §2.6, §3.3):
 * split as lib/cmdline.c's next_arg() splits it, names matched as
 * kernel/params.c's parameq() matches them, values read as kstrtobool() and
 * kstrtou32() read them.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/cmdline.h>

#include "base/mem_int.h"
#include "base/util_int.h"

/* parameq(): names compare equal with '-' and '_' taken as one character. */
static bool
name_eq(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (alen != strlen(b))
		return false;
	for (i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* Does @name start with @prefix, in any case, '-' for '_'? (Names that only
 * differ in case are unknown to the kernel too, but they are typos here.) */
static bool
in_namespace(const char *name, size_t nlen, const char *prefix)
{
	size_t i, plen = strlen(prefix);

	if (nlen < plen)
		return false;
	for (i = 0; i < plen; i++) {
		char x = name[i] == '-' ? '_' : (char)tolower((unsigned char)name[i]);

		if (x != prefix[i])
			return false;
	}
	return true;
}

/* kstrtobool(): the first character decides; "on" and "of" need the second.
 * A missing value (no '=') is -EINVAL, as kstrtobool(NULL). */
static int
kstrtobool_like(const char *s, bool *res)
{
	if (!s)
		return -EINVAL;
	switch (s[0]) {
	case 'y':
	case 'Y':
	case '1':
		*res = true;
		return 0;
	case 'n':
	case 'N':
	case '0':
		*res = false;
		return 0;
	case 'o':
	case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*res = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*res = false;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

/* kstrtou32(s, 10): an optional '+', decimal digits, one optional '\n'. */
static int
kstrtou32_like(const char *s, uint32_t *res)
{
	uint64_t v = 0;
	size_t n = 0;

	if (!s)
		return -EINVAL;
	if (*s == '+')
		s++;
	for (; isdigit((unsigned char)*s); s++, n++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (!n)
		return -EINVAL;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*res = (uint32_t)v;
	return 0;
}

/* One parameter: @name (@nlen bytes) and its value (NULL without '='). */
static int
apply(struct iommusim_cmdline *c, const char *name, size_t nlen, const char *val, char *err,
      size_t err_len)
{
	bool b = false;

	/* §2.6: early_param("iommu.strict"): kstrtobool into iommu_dma_strict,
	 * marked as set on the command line. */
	if (name_eq(name, nlen, "iommu.strict")) {
		if (kstrtobool_like(val, &b))
			goto malformed_bool;
		c->iommu.strict_set = true;
		c->iommu.strict = b;
		return 0;
	}
	/* §2.6: early_param("iommu.passthrough"): identity or translated
	 * default domains, either way marked as set on the command line. */
	if (name_eq(name, nlen, "iommu.passthrough")) {
		if (kstrtobool_like(val, &b))
			goto malformed_bool;
		c->passthrough_set = true;
		c->iommu.passthrough = b;
		return 0;
	}
	/* §2.6: early_param("iommu.forcedac"); s390_iommu_init() sets it
	 * anyway, so on s390 it changes nothing. */
	if (name_eq(name, nlen, "iommu.forcedac")) {
		if (kstrtobool_like(val, &b))
			goto malformed_bool;
		c->forcedac_set = true;
		c->iommu.forcedac = b;
		return 0;
	}
	/* §3.3: __setup("s390_iommu="): only "strict" does anything
	 * (iommu_set_dma_strict(), with a deprecation warning); it sticks. */
	if (name_eq(name, nlen, "s390_iommu")) {
		if (!val)
			return ims_errf(
				err, err_len,
				"s390_iommu needs a value: the kernel only knows "
				"s390_iommu=strict (without '=' it passes the word to init)");
		if (strcmp(val, "strict"))
			return ims_errf(
				err, err_len,
				"s390_iommu=%s: the kernel only knows 'strict' and ignores "
				"anything else (write s390_iommu=strict, or iommu.strict=1)",
				val);
		c->iommu.s390_strict = true;
		return 0;
	}
	/* §3.3: __setup("s390_iommu_aperture="): kstrtou32 base 10; on a
	 * parse error the kernel silently uses factor 1. */
	if (name_eq(name, nlen, "s390_iommu_aperture")) {
		uint32_t f;

		if (!val)
			return ims_errf(err, err_len,
					"s390_iommu_aperture needs a value: a decimal factor of "
					"memory from 0 (no limit) to 4294967295");
		if (kstrtou32_like(val, &f))
			return ims_errf(err, err_len,
					"s390_iommu_aperture=%s: not a decimal number from 0 to "
					"4294967295 (the kernel would quietly use factor 1)",
					val);
		c->aperture_set = true;
		c->aperture_factor = f;
		return 0;
	}
	/* Any other name in the IOMMU code's namespaces is unknown to the
	 * kernel as well (it says so and hands it to init): a typo. */
	if (in_namespace(name, nlen, "iommu.") || in_namespace(name, nlen, "s390_iommu"))
		return ims_errf(err, err_len,
				"%.*s: not a kernel parameter (the IOMMU code knows iommu.strict, "
				"iommu.passthrough, iommu.forcedac, s390_iommu and "
				"s390_iommu_aperture)",
				(int)nlen, name);
	if (!c->nignored++)
		snprintf(c->first_ignored, sizeof(c->first_ignored), "%.*s%s%s", (int)nlen, name,
			 val ? "=" : "", val ? val : "");
	return 0;

malformed_bool:
	return ims_errf(err, err_len,
			"%.*s%s%s: not a boolean the kernel reads (y, n, 1, 0, on, off); it would "
			"print \"Malformed early option\" and keep the default",
			(int)nlen, name, val ? "=" : "", val ? val : "");
}

int
iommusim_cmdline_parse(const char *line, struct iommusim_cmdline *out, char *err, size_t err_len)
{
	char *buf, *args;
	size_t len;
	int ret = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!line || !out)
		return ims_errf(err, err_len, "no command line");
	len = strlen(line);
	if (len > IOMMUSIM_CMDLINE_MAX)
		return ims_errf(err, err_len, "command line of %zu bytes: at most %d", len,
				IOMMUSIM_CMDLINE_MAX);
	buf = ims_strdup(line);
	if (!buf)
		return -ENOMEM;
	args = buf;
	while (!ret) {
		char *param, *val = NULL;
		size_t i, equals = 0;
		bool in_quote = false, quoted = false;

		while (isspace((unsigned char)*args))
			args++;
		if (!*args)
			break;
		/* next_arg(): a leading quote opens a quoted parameter; the first
		 * '=' splits name from value; quotes toggle the quoting. */
		if (*args == '"') {
			args++;
			in_quote = quoted = true;
		}
		for (i = 0; args[i]; i++) {
			if (isspace((unsigned char)args[i]) && !in_quote)
				break;
			if (!equals && args[i] == '=')
				equals = i;
			if (args[i] == '"')
				in_quote = !in_quote;
		}
		if (in_quote) {
			ret = ims_errf(err, err_len, "unbalanced '\"' in the command line");
			break;
		}
		param = args;
		if (equals) {
			args[equals] = '\0';
			val = args + equals + 1;
			if (*val == '"') {
				val++;
				if (i > 0 && args[i - 1] == '"')
					args[i - 1] = '\0';
			}
		}
		if (quoted && i > 0 && args[i - 1] == '"')
			args[i - 1] = '\0';
		if (args[i])
			args[i++] = '\0';
		args += i;
		/* parse_args(): a bare "--" ends the kernel's parameters. */
		if (!val && !strcmp(param, "--")) {
			out->init_args = true;
			break;
		}
		ret = apply(out, param, strlen(param), val, err, err_len);
	}
	ims_free(buf);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

size_t
iommusim_cmdline_format(const struct iommusim_cmdline *c, char *buf, size_t len)
{
	size_t n = 0;
	int w;

	if (!c)
		return 0;
	if (buf && len)
		buf[0] = '\0';
#define PUT(...)                                                                            \
	do {                                                                                \
		w = snprintf(buf && n < len ? buf + n : NULL, buf && n < len ? len - n : 0, \
			     __VA_ARGS__);                                                  \
		n += w > 0 ? (size_t)w : 0;                                                 \
	} while (0)
	if (c->iommu.strict_set)
		PUT("%siommu.strict=%d", n ? " " : "", c->iommu.strict);
	if (c->passthrough_set)
		PUT("%siommu.passthrough=%d", n ? " " : "", c->iommu.passthrough);
	if (c->forcedac_set)
		PUT("%siommu.forcedac=%d", n ? " " : "", c->iommu.forcedac);
	if (c->iommu.s390_strict)
		PUT("%ss390_iommu=strict", n ? " " : "");
	if (c->aperture_set)
		PUT("%ss390_iommu_aperture=%u", n ? " " : "", (unsigned)c->aperture_factor);
#undef PUT
	return n;
}
