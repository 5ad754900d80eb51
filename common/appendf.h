/*
 * appendf.h - printf at the end of a text buffer.
 *
 * SYNOPSIS
 *	void appendf(buf, size, fmt, ...)
 *		Append to the NUL-terminated text in buf (of size bytes),
 *		cut at its size: buf stays terminated, never overflows.
 */
#ifndef EXORELAY_APPENDF_H
#define EXORELAY_APPENDF_H

#include <stddef.h>

void appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
