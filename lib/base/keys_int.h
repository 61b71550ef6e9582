/* SPDX-License-Identifier: MIT */
/* What messages about a bad key or value repeat of it (keys.c). */
#ifndef IMS_KEYS_INT_H
#define IMS_KEYS_INT_H

#include "config.h"

/* How much of a bad value or key a message repeats. */
#define IMS_SHOWN_MAX 40

/*
 * @p s as a message may show it: at most IMS_SHOWN_MAX bytes (not splitting a
 * UTF-8 sequence) then "...", control characters as '?'. @return @p buf
 */
const char *ims_shown(char buf[IMS_SHOWN_MAX + 4], const char *s);

#endif
