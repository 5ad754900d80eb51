/*
 * conf_value.h - validators for single config values. Pure functions: no
 * files, no network. Each returns 0 when the text is well-formed (storing
 * the result where there is one), else -1 with a message in err that names
 * the bad text and the expected form, ready to follow "KEY: ".
 *
 * SYNOPSIS
 *	cv_guid(s)		xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex)
 *	cv_domain(s)		host.example.com: LDH labels, 1-63 chars each
 *	cv_domain_pattern(s)	a domain, or *.domain for all its subdomains
 *	cv_tenant(s)		a GUID, or a domain with at least one dot
 *	cv_mailbox(s)		local@domain (dot-atom local part)
 *	cv_send_as(s)		"addr", "<addr>", "Name <addr>", "\"Name\" <addr>"
 *	cv_date(s, &t)		YYYY-MM-DD; t = the end of that day, UTC
 *	cv_size(s, &n)		bytes, with K, M or G suffix (1024-based)
 *	cv_duration(s, &n)	seconds, with s, m, h or d suffix
 *	cv_number(s, min, max, &n)	decimal integer in [min, max]
 *	cv_mode(s, &n)		octal file mode, e.g. 0660
 *	cv_glob(s)		fnmatch(3) pattern on an address: needs "@"
 *				unless it is "*"
 *	cv_regex(s, &re, flags)	POSIX ERE; regerror's text on failure
 *	cv_https_url(s)		https://host[:port][/path]
 *	cv_proxy_url(s)		[scheme://]host[:port] (scheme per libcurl)
 *	cv_username(s)		a user or group name, or a number
 *	cv_name(s)		an [account NAME] / [class NAME] name
 *
 *	conf_addr.c:
 *	cv_host(s)		a domain, an IPv4 address or an IPv6 address
 *	cv_listen(s, &addr)	host:port, [v6]:port or unix:/path
 *	cv_cidr(s, &net)	address[/bits], IPv4 or IPv6, no host bits set
 *	cv_milter_socket(s)	unix:/path, local:/path, inet:PORT[@HOST],
 *				inet6:PORT[@HOST] (libmilter's smfi_setconn)
 */
#ifndef EXORELAY_CONF_VALUE_H
#define EXORELAY_CONF_VALUE_H

#include <regex.h>
#include <stddef.h>
#include <time.h>

#include "config.h"

int cv_guid(const char *s, char *err, size_t errlen);
int cv_domain(const char *s, char *err, size_t errlen);
int cv_domain_pattern(const char *s, char *err, size_t errlen);
int cv_tenant(const char *s, char *err, size_t errlen);
int cv_mailbox(const char *s, char *err, size_t errlen);
int cv_send_as(const char *s, char *err, size_t errlen);
int cv_date(const char *s, time_t *t, char *err, size_t errlen);
int cv_size(const char *s, long long *n, char *err, size_t errlen);
int cv_duration(const char *s, long long *n, char *err, size_t errlen);
int cv_number(const char *s, long long min, long long max, long long *n,
              char *err, size_t errlen);
int cv_mode(const char *s, long long *n, char *err, size_t errlen);
int cv_glob(const char *s, char *err, size_t errlen);
int cv_regex(const char *s, regex_t *re, int flags, char *err, size_t errlen);
int cv_https_url(const char *s, char *err, size_t errlen);
int cv_proxy_url(const char *s, char *err, size_t errlen);
int cv_username(const char *s, char *err, size_t errlen);
int cv_name(const char *s, char *err, size_t errlen);

int cv_host(const char *s, char *err, size_t errlen);
int cv_listen(const char *s, struct listen_addr *addr, char *err, size_t errlen);
int cv_cidr(const char *s, struct cidr *net, char *err, size_t errlen);
int cv_milter_socket(const char *s, char *err, size_t errlen);

#endif
