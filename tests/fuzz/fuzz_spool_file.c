/*
 * fuzz_spool_file.c - libFuzzer target: the reader of spool and state
 * files (relay/spool/spool.c: spool_env_parse, spool_env_read), which the
 * daemon, "queue flush" and mailq run on files a crash may have cut short
 * or a submitter may have written oddly.
 *
 * Input: bytes 0-1 choose where a copy is cut (a torn write), the rest is
 * a spool file (envelope lines, empty line, message), or a state file.
 *
 * Invariants:
 *  - spool_env_parse(): on success there is a sender, the message starts
 *    inside the text, and no value holds CR, LF or NUL (each becomes a
 *    line of the next file, or an SMTP command); the envelope written
 *    back by spool_env_format() (with state) is accepted and reads back
 *    as the same envelope; on failure the envelope is empty (nothing to
 *    free, nothing half-set);
 *  - spool_env_read() on the file accepts it only when the message is
 *    exactly "size" bytes, and leaves the offset at the message;
 *  - every proper prefix of an accepted file (a torn write) is refused:
 *    the cut chosen by the input, just before the message, and one byte
 *    short of the end.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "spool/spool.h"

/* value_ok - one line of text: no CR, LF or NUL (NUL ends the C string) */
static void value_ok(const char *v)
{
    if (v != NULL)
        CHECK(strpbrk(v, "\r\n") == NULL);
}

/* vec_same - two string vectors hold the same values in the same order */
static int vec_same(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

/* str_same - both NULL, or equal */
static int str_same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* check_env - a parsed envelope's values */
static void check_env(const struct spool_env *e)
{
    CHECK(e->sender != NULL);
    value_ok(e->sender);
    value_ok(e->envid);
    value_ok(e->error);
    for (size_t i = 0; i < e->nrcpt; i++)
        value_ok(e->rcpt[i]);
    for (size_t i = 0; i < e->ndone; i++)
        value_ok(e->done[i]);
    for (size_t i = 0; i < e->nfailed; i++)
        value_ok(e->failed[i]);
}

/* check_round_trip - format e, parse it again: the same envelope */
static void check_round_trip(const struct spool_env *e)
{
    struct spool_env b;
    char   *text, err[256];
    size_t  len;

    CHECK(spool_env_format(e, 1, &text, &len) == 0);
    CHECK(spool_env_parse(text, len, &b, err, sizeof(err)) == 0);
    CHECK((size_t) b.body_offset == len);
    CHECK(strcmp(b.id, e->id) == 0 && b.time == e->time && b.uid == e->uid);
    CHECK(str_same(b.sender, e->sender) && str_same(b.envid, e->envid)
          && str_same(b.error, e->error));
    CHECK(b.notify == e->notify && b.ret == e->ret && b.is_dsn == e->is_dsn);
    CHECK(b.size == e->size && b.attempts == e->attempts);
    CHECK(b.first_attempt == e->first_attempt && b.last_attempt == e->last_attempt
          && b.next_attempt == e->next_attempt);
    CHECK(vec_same(b.rcpt, b.nrcpt, e->rcpt, e->nrcpt));
    CHECK(vec_same(b.done, b.ndone, e->done, e->ndone));
    CHECK(vec_same(b.failed, b.nfailed, e->failed, e->nfailed));
    spool_env_free(&b);
    free(text);
}

/* read_file - spool_env_read() of the first len bytes of text */
static int read_file(int fd, const char *text, size_t len, struct spool_env *e)
{
    char    err[256];

    CHECK(ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0);
    CHECK(len == 0 || write(fd, text, len) == (ssize_t) len);
    CHECK(lseek(fd, 7, SEEK_SET) == 7); /* the reader must not rely on it */
    return spool_env_read(fd, e, err, sizeof(err));
}

/* refused - a torn copy (len bytes of an accepted file) is not accepted */
static void refused(int fd, const char *text, size_t len)
{
    struct spool_env e;

    CHECK(read_file(fd, text, len, &e) < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    struct spool_env e;
    char    err[256];
    const char *text = (const char *) data + 2;
    size_t  len, cut;

    if (size < 2)
        return 0;
    if (fd < 0)
        CHECK((fd = memfd_create("fuzz_spool", 0)) >= 0);
    len = size - 2;
    cut = ((size_t) data[0] << 8 | data[1]) % (len + 1);

    if (spool_env_parse(text, len, &e, err, sizeof(err)) == 0) {
        CHECK(e.body_offset > 0 && (size_t) e.body_offset <= len);
        check_env(&e);
        check_round_trip(&e);
        spool_env_free(&e);
    } else {
        CHECK(e.sender == NULL && e.rcpt == NULL && e.nrcpt == 0 && err[0]);
    }

    if (read_file(fd, text, len, &e) == 0) {
        check_env(&e);
        CHECK((size_t) e.body_offset <= len && (long long) (len - (size_t) e.body_offset) == e.size);
        CHECK(lseek(fd, 0, SEEK_CUR) == e.body_offset);
        off_t   body = e.body_offset;
        spool_env_free(&e);
        if (cut < len)
            refused(fd, text, cut);
        if (len > 0)
            refused(fd, text, len - 1);
        if ((size_t) body < len)
            refused(fd, text, (size_t) body);
    }
    return 0;
}
