/*
 * conf_file.h - checks of the files a config names: secrets, private
 * keys, certificates, CA bundles. Each returns 0 when the file is usable,
 * else -1 with a message in err that names the file and the fix.
 *
 * SYNOPSIS
 *	cf_secret_file(path)	absolute, a regular file, readable by us, not
 *				accessible by group or others (names the chmod)
 *	cf_key_file(path)	as cf_secret_file, and an unencrypted PEM
 *				private key
 *	cf_cert_file(path)	readable file that holds a PEM certificate
 *				(a certificate, or a CA bundle)
 *	cf_key_matches(cert, key)	the key belongs to the certificate
 *
 * The contents of a secret or key are never put into err.
 */
#ifndef EXORELAY_CONF_FILE_H
#define EXORELAY_CONF_FILE_H

#include <stddef.h>

int cf_secret_file(const char *path, char *err, size_t errlen);
int cf_key_file(const char *path, char *err, size_t errlen);
int cf_cert_file(const char *path, char *err, size_t errlen);
int cf_key_matches(const char *cert, const char *key, char *err, size_t errlen);

#endif
