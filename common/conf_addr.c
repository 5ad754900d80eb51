/*
 * conf_addr.c - validators for network values: hosts, listen addresses,
 * CIDR networks, milter sockets (see conf_value.h).
 *
 * Addresses are parsed with inet_pton(3) only: "exorelay check" must work
 * without DNS, so a host name is checked for its form, never resolved.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "conf_value.h"

/* cv_host - IPv4 or IPv6 literal (no brackets), or a domain name */
int cv_host(const char *s, char *err, size_t errlen)
{
    unsigned char buf[16];

    if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
        return 0;
    if (strchr(s, ':') != NULL) {
        snprintf(err, errlen, "'%s' is not an IPv6 address", s);
        return -1;
    }
    return cv_domain(s, err, errlen);
}

/* unix_path - an absolute path that fits into sockaddr_un */
static int unix_path(const char *path, const char *orig, char *err, size_t errlen)
{
    struct sockaddr_un sun;

    if (path[0] != '/') {
        snprintf(err, errlen, "'%s': the socket path must be absolute", orig);
        return -1;
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "'%s': the socket path is longer than %zu bytes",
                 orig, sizeof(sun.sun_path) - 1);
        return -1;
    }
    return 0;
}

/* copy_span - len bytes of from as a string in dst; -1 when too long */
static int copy_span(char *dst, size_t dstlen, const char *from, size_t len)
{
    if (len >= dstlen)
        return -1;
    memcpy(dst, from, len);
    dst[len] = 0;
    return 0;
}

/* listen_host - the host part of host:port or [v6]:port; NULL + err */
static const char *listen_host(const char *s, char *host, size_t hostlen,
                               char *err, size_t errlen)
{
    const char *close, *colon;
    unsigned char buf[16];

    if (s[0] == '[') {
        close = strchr(s, ']');
        if (close == NULL || close[1] != ':'
            || copy_span(host, hostlen, s + 1, (size_t) (close - s - 1)) < 0
            || inet_pton(AF_INET6, host, buf) != 1) {
            snprintf(err, errlen, "'%s' is not [IPv6-address]:port", s);
            return NULL;
        }
        return close + 1;
    }
    colon = strrchr(s, ':');
    if (colon == NULL || copy_span(host, hostlen, s, (size_t) (colon - s)) < 0) {
        snprintf(err, errlen, "'%s' is not host:port, [IPv6]:port or unix:/path", s);
        return NULL;
    }
    if (strchr(host, ':') != NULL) {
        snprintf(err, errlen, "'%s': write an IPv6 address in brackets, "
                 "as [::1]:10587", s);
        return NULL;
    }
    return cv_host(host, err, errlen) < 0 ? NULL : colon;
}

/* cv_listen - host:port, [v6]:port or unix:/path */
int cv_listen(const char *s, struct listen_addr *a, char *err, size_t errlen)
{
    char    host[256];
    const char *colon;
    long long port;

    memset(a, 0, sizeof(*a));
    if (strncmp(s, "unix:", 5) == 0) {
        if (unix_path(s + 5, s, err, errlen) < 0)
            return -1;
        a->kind = LISTEN_UNIX;
        a->path = strdup(s + 5);
        return a->path ? 0 : -1;
    }
    if ((colon = listen_host(s, host, sizeof(host), err, errlen)) == NULL)
        return -1;
    if (cv_number(colon + 1, 1, 65535, &port, err, errlen) < 0) {
        snprintf(err, errlen, "'%s': the port must be a number from 1 to 65535", s);
        return -1;
    }
    a->kind = LISTEN_INET;
    a->port = (int) port;
    a->host = strdup(host);
    return a->host ? 0 : -1;
}

/* host_bits_set - does addr have bits beyond the prefix length? */
static int host_bits_set(const struct cidr *n)
{
    int     len = n->family == AF_INET ? 4 : 16;

    for (int i = 0; i < len; i++) {
        int     keep = n->bits - i * 8;
        uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t) (0xff << (8 - keep));

        if (n->addr[i] & (uint8_t) ~mask)
            return 1;
    }
    return 0;
}

/* cv_cidr - address or address/bits; the address must be the network */
int cv_cidr(const char *s, struct cidr *n, char *err, size_t errlen)
{
    char    addr[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t  alen = slash ? (size_t) (slash - s) : strlen(s);
    long long bits;
    char    net[INET6_ADDRSTRLEN];

    memset(n, 0, sizeof(*n));
    if (alen >= sizeof(addr))
        goto bad;
    memcpy(addr, s, alen);
    addr[alen] = 0;
    if (inet_pton(AF_INET, addr, n->addr) == 1)
        n->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, n->addr) == 1)
        n->family = AF_INET6;
    else
        goto bad;
    n->bits = n->family == AF_INET ? 32 : 128;
    if (slash) {
        if (cv_number(slash + 1, 0, n->bits, &bits, err, errlen) < 0) {
            snprintf(err, errlen, "'%s': the prefix length must be 0 to %d", s, n->bits);
            return -1;
        }
        n->bits = (int) bits;
    }
    if (host_bits_set(n)) {
        struct cidr fixed = *n;

        for (int i = 0; i < 16; i++) {
            int     keep = n->bits - i * 8;

            fixed.addr[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t) (0xff << (8 - keep));
        }
        inet_ntop(n->family, fixed.addr, net, sizeof(net));
        snprintf(err, errlen, "'%s' has bits set after the /%d prefix: "
                 "did you mean %s/%d?", s, n->bits, net, n->bits);
        return -1;
    }
    return 0;
  bad:
    snprintf(err, errlen, "'%s' is not a network (want an IPv4 or IPv6 "
             "address, optionally /bits: 10.0.0.0/8, ::1, 2001:db8::/32)", s);
    return -1;
}

/* cv_milter_socket - the socket specs libmilter's smfi_setconn() takes */
int cv_milter_socket(const char *s, char *err, size_t errlen)
{
    char    port[8];
    const char *spec, *at;
    long long num;

    if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0)
        return unix_path(strchr(s, ':') + 1, s, err, errlen);
    if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
        spec = strchr(s, ':') + 1;
        at = spec + strcspn(spec, "@");
        if (copy_span(port, sizeof(port), spec, (size_t) (at - spec)) == 0
            && cv_number(port, 1, 65535, &num, err, errlen) == 0
            && (*at == 0 || cv_host(at + 1, err, errlen) == 0))
            return 0;
    }
    snprintf(err, errlen, "'%s' is not a milter socket (want unix:/path, "
             "inet:PORT@HOST or inet6:PORT@HOST)", s);
    return -1;
}
