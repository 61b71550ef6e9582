/* SPDX-License-Identifier: MIT */
/* zPCI internals shared with the tests: the script platform's lost records. */
#ifndef IMS_ZPCI_INT_H
#define IMS_ZPCI_INT_H

#include <stddef.h>

#include <iommusim/zpci.h>

/*
 * Calls the script answered but could not record because growing the call
 * log failed (the answer is still given: a platform cannot fail an
 * instruction for lack of host memory).
 */
size_t ims_zpci_canned_lost(const struct iommusim_zpci_canned *s);

#endif /* IMS_ZPCI_INT_H */
