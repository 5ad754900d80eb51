/*
 * appendf.c - printf at the end of a text buffer (see appendf.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "appendf.h"

/* appendf - printf at the end of what buf holds, truncating */
void appendf(char *buf, size_t size, const char *fmt, ...)
{
    size_t  used = strlen(buf);
    va_list ap;

    if (used >= size)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}
