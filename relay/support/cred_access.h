/*
 * cred_access.h - can this process read the accounts' credentials? (see
 * cred_access.c)
 */
#ifndef EXORELAY_CRED_ACCESS_H
#define EXORELAY_CRED_ACCESS_H

#include <stddef.h>

#include "common/config.h"

int credentials_readable(const struct config *cfg, char *why, size_t whylen);

#endif
