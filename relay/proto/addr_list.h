/*
 * addr_list.h - addresses out of RFC 5322 address lists (see addr_list.c).
 */
#ifndef EXORELAY_ADDR_LIST_H
#define EXORELAY_ADDR_LIST_H

#include <stddef.h>

int addr_list_parse(const char *value, char ***vec, size_t *n);
int addr_vec_add(char ***vec, size_t *n, const char *s);

#endif
