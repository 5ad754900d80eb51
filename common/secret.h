/*
 * secret.h - a container for client secrets, private-key passphrases and
 * access tokens that cannot be printed by accident.
 *
 * SYNOPSIS
 *	secret_t *secret_new(bytes, len)	copy bytes into a new secret
 *	secret_t *secret_from_file(path, err, errlen)
 *					read a secret file (trailing newline
 *					and white space dropped); refuses a
 *					file readable by group or others and
 *					says which chmod fixes it; NULL+err
 *	const char *secret_fingerprint(s)	"sha256:1a2b3c4d" (first 8 hex of
 *					SHA-256): the only form for logs
 *	const char *secret_reveal(s, &len)	the bytes, NUL-terminated; only for
 *					wire encoders (XOAUTH2, token POST,
 *					state file); never for a log
 *	int secret_equal(a, b)		constant-time comparison
 *	void secret_free(s)		wipe and free
 *
 * secret_t is opaque: passing it to a %s is a compile error under
 * -Wformat -Werror, and it has no function returning its text other than
 * secret_reveal(), whose call sites are few and reviewed.
 */
#ifndef EXORELAY_SECRET_H
#define EXORELAY_SECRET_H

#include <stddef.h>

typedef struct secret secret_t;

secret_t *secret_new(const char *bytes, size_t len);
secret_t *secret_from_file(const char *path, char *err, size_t errlen);
const char *secret_fingerprint(const secret_t *s);
const char *secret_reveal(const secret_t *s, size_t *len);
int secret_equal(const secret_t *a, const secret_t *b);
secret_t *secret_dup(const secret_t *s);
void secret_free(secret_t *s);

/* file_mode_problem - if path is readable/writable by group or others, write
 * "PATH is readable by others (mode 0644): run chmod 600 PATH" to err and
 * return -1; 0 when the mode is safe; -1 with the errno text when stat fails.
 * Shared by the config check and every reader of key files. */
int file_mode_problem(const char *path, char *err, size_t errlen);

#endif
