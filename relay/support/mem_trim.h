/*
 * mem_trim.h - keep the idle daemon small.
 *
 * SYNOPSIS
 *	void mem_lean_start(void)
 *		Before any thread starts: at most two malloc arenas (each
 *		thread would otherwise get its own, holding freed memory of
 *		its busiest moment), and a smaller default thread stack.
 *	void mem_trim(void)
 *		When idle: give freed heap pages back (malloc_trim), and drop
 *		this process's mappings of clean read-only file pages
 *		(library and program code and constants; touched at start,
 *		mostly by OpenSSL and libcurl initialisation, and mapped
 *		64 KB at a time by the kernel's fault-around). Those pages
 *		stay in the page cache, shared with every other process; a
 *		later use maps them again (a minor fault, no disk read).
 *		Never touches a writable mapping or one with a private
 *		(copy-on-write, e.g. relocated) page: their content is ours.
 */
#ifndef EXORELAY_MEM_TRIM_H
#define EXORELAY_MEM_TRIM_H

#define MEM_THREAD_STACK (512 * 1024)   /* default stack of new threads */

void mem_lean_start(void);
void mem_trim(void);

#endif
