/*
 * secret.c - opaque, wiped-on-free holder of secrets and tokens (secret.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "secret.h"

struct secret {
    char   *bytes;              /* NUL-terminated copy */
    size_t  len;
    char    fingerprint[24];    /* "sha256:" + 8 hex */
};

/* secret_new - copy len bytes; NULL only when out of memory */
secret_t *secret_new(const char *bytes, size_t len)
{
    secret_t *s = calloc(1, sizeof(*s));
    unsigned char digest[SHA256_DIGEST_LENGTH];

    if (s == NULL || (s->bytes = malloc(len + 1)) == NULL) {
        free(s);
        return NULL;
    }
    memcpy(s->bytes, bytes, len);
    s->bytes[len] = 0;
    s->len = len;
    SHA256((const unsigned char *) bytes, len, digest);
    snprintf(s->fingerprint, sizeof(s->fingerprint), "sha256:%02x%02x%02x%02x",
             digest[0], digest[1], digest[2], digest[3]);
    OPENSSL_cleanse(digest, sizeof(digest));
    return s;
}

secret_t *secret_dup(const secret_t *s)
{
    return s ? secret_new(s->bytes, s->len) : NULL;
}

/* file_mode_problem - is this secret or key file safe to read? */
int file_mode_problem(const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen, "%s is accessible by %s (mode %04o): run chmod 600 %s",
                 path, (st.st_mode & S_IRWXO) ? "others" : "its group",
                 (unsigned) (st.st_mode & 07777), path);
        return -1;
    }
    return 0;
}

/* secret_from_file - read a whole small file as a secret (see secret.h) */
secret_t *secret_from_file(const char *path, char *err, size_t errlen)
{
    char buf[16384];
    size_t len = 0;
    ssize_t n;
    int fd;
    secret_t *s;

    if (file_mode_problem(path, err, errlen) < 0)
        return NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t) n;
    close(fd);
    if (len == sizeof(buf)) {
        snprintf(err, errlen, "%s: too large for a secret (16 KB or more)", path);
        OPENSSL_cleanse(buf, sizeof(buf));
        return NULL;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'
                       || buf[len - 1] == ' ' || buf[len - 1] == '\t'))
        len--;
    if (len == 0) {
        snprintf(err, errlen, "%s is empty", path);
        return NULL;
    }
    s = secret_new(buf, len);
    OPENSSL_cleanse(buf, sizeof(buf));
    if (s == NULL)
        snprintf(err, errlen, "%s: out of memory", path);
    return s;
}

const char *secret_fingerprint(const secret_t *s)
{
    return s ? s->fingerprint : "(none)";
}

const char *secret_reveal(const secret_t *s, size_t *len)
{
    if (len)
        *len = s ? s->len : 0;
    return s ? s->bytes : NULL;
}

int secret_equal(const secret_t *a, const secret_t *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->len != b->len)
        return 0;
    return CRYPTO_memcmp(a->bytes, b->bytes, a->len) == 0;
}

void secret_free(secret_t *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s->bytes, s->len);
    free(s->bytes);
    OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}
