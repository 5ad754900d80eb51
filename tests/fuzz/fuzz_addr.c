/*
 * fuzz_addr.c - libFuzzer target: the one RFC 5322 address scanner
 * (common/addr.c), as the milter reads From: values and as
 * exorelay-sendmail reads To:/Cc:/Bcc: and its recipient arguments
 * (sendmail_addr_list, relay/sendmail/sendmail_msg.c).
 *
 * Input: any bytes, a header value or an argument (up to the first NUL).
 *
 * Invariants:
 *  - addr_parse() never fails on any input (only on lack of memory), and
 *    every address it returns is no longer than the input and holds no
 *    CR, LF, space or tab outside a quoted string or domain literal;
 *  - addr_pick() is NULL exactly when no mailbox has an address, else it
 *    has an "@" whenever any mailbox has one;
 *  - sendmail_addr_list() refuses (-1) every value with a line break and
 *    every address with a control character; otherwise it appends as many
 *    addresses as addr_parse() found non-empty ones, the same strings;
 *  - addr_envelope() of the value never ends in ">".
 */
#include "fuzz.h"
#include "common/addr.h"
#include "sendmail/sendmail_msg.h"

/* outside_quotes_clean - no white space or line end outside "..." and
 * [...] (the scanner keeps those units whole) */
static void outside_quotes_clean(const char *a)
{
    char    close = 0;

    for (; *a; a++) {
        if (close && *a == '\\' && a[1])
            a++;
        else if (close && *a == close)
            close = 0;
        else if (!close && (*a == '"' || *a == '['))
            close = *a == '"' ? '"' : ']';
        else if (!close)
            CHECK(*a != ' ' && *a != '\t' && *a != '\r' && *a != '\n');
    }
}

/* has_control - what sendmail_addr_list refuses in an address */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* check_sendmail - the sendmail front end's view of the same value */
static void check_sendmail(const char *value, const struct addr_list *list)
{
    char  **vec = NULL;
    size_t  n = 0, want = 0, k = 0;
    int     bad = strpbrk(value, "\r\n") != NULL;
    int     got = sendmail_addr_list(value, &vec, &n);

    for (size_t i = 0; i < list->n; i++) {
        want += list->v[i].addr[0] != 0;
        bad |= list->v[i].addr[0] != 0 && has_control(list->v[i].addr);
    }
    if (bad) {
        CHECK(got == -1);
    } else {
        CHECK(got >= 0 && (size_t) got == want && n == want);
        for (size_t i = 0; i < list->n; i++)
            if (list->v[i].addr[0] != 0)
                CHECK(strcmp(vec[k++], list->v[i].addr) == 0);
    }
    for (size_t i = 0; i < n; i++)
        free(vec[i]);
    free(vec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *value = fuzz_strndup(data, size), *env;
    struct addr_list list;
    const struct mailbox *mb;
    int     any = 0, any_at = 0;

    CHECK(addr_parse(value, &list) == 0);
    for (size_t i = 0; i < list.n; i++) {
        const char *a = list.v[i].addr;

        CHECK(a != NULL && strlen(a) <= strlen(value));
        outside_quotes_clean(a);
        any |= a[0] != 0;
        any_at |= strchr(a, '@') != NULL;
    }
    mb = addr_pick(&list);
    CHECK((mb == NULL) == !any);
    CHECK(mb == NULL || !any_at || strchr(mb->addr, '@') != NULL);
    check_sendmail(value, &list);
    addr_list_free(&list);
    env = addr_envelope(value);
    CHECK(env != NULL);
    CHECK(env[0] == 0 || env[strlen(env) - 1] != '>');
    free(env);
    free(value);
    return 0;
}
