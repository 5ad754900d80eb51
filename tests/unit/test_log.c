/*
 * test_log.c - common/log.c: each message is one line of printable text,
 * whatever it quotes (an ESC sequence in a header value, the CR LF of a
 * multi-line upstream reply, a client's command): nothing can forge a log
 * line or drive the terminal of whoever reads the log.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tap.h"

/* logged - what one msg_warn of text writes to stderr */
static char *logged(const char *text, size_t *len)
{
    static char buf[8192];
    char    path[256];
    const char *tmp = getenv("TESTS_TMP") ? getenv("TESTS_TMP") : "/tmp";
    int     fd, saved = dup(STDERR_FILENO);
    ssize_t n;

    snprintf(path, sizeof(path), "%s/log.%ld", tmp, (long) getpid());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    msg_warn("upstream said: %s", text);
    dup2(saved, STDERR_FILENO);
    close(saved);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    unlink(path);
    *len = n > 0 ? (size_t) n : 0;
    buf[*len] = 0;
    return buf;
}

/* one_clean_line - printable bytes, then exactly one LF at the end */
static int one_clean_line(const char *s, size_t len)
{
    if (len == 0 || s[len - 1] != '\n')
        return 0;
    for (size_t i = 0; i + 1 < len; i++)
        if ((unsigned char) s[i] < ' ' || s[i] == 0x7f)
            return 0;
    return 1;
}

int main(void)
{
    size_t  len;
    char   *out;
    char    text[] = "a\tb\x1b[2Jc\x7f";

    log_open("test_log", 1);
    out = logged("451 4.7.0 first line\r\n451 4.7.0 forged: status=sent", &len);
    ok(one_clean_line(out, len), "a multi-line reply (CR LF inside) is logged as one line");
    ok(strstr(out, "first line??451 4.7.0 forged") != NULL, "CR and LF become ?: %s", out);
    out = logged("Subject: \x1b]0;owned\x07\x1b[2J", &len);
    ok(one_clean_line(out, len), "ESC and BEL of a header value do not reach the log");
    ok(strstr(out, "?]0;owned??[2J") != NULL, "they are replaced, the rest kept: %s", out);
    out = logged("caf\xc3\xa9 \xe2\x82\xac", &len);
    ok(strstr(out, "caf\xc3\xa9 \xe2\x82\xac") != NULL, "UTF-8 text is kept as is");
    log_sanitize(text);
    is_str(text, "a b?[2Jc?", "log_sanitize: TAB -> space, controls and DEL -> ?");
    return done_testing();
}
