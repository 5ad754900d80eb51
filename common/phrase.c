/*
 * phrase.c - make a display name from free text (see phrase.h); the one
 * RFC 2047 encoder of exorelay (the milter's send_as, exorelay-sendmail's
 * -F and GECOS names).
 *
 * A phrase made of atext words needs nothing: RFC 2047 encoded words are
 * atext too when they are valid in a phrase (RFC 2047 section 5 limits
 * their Q text to letters, digits and "!*+-/=_"), and 8-bit bytes are
 * accepted as atext (RFC 6532). Anything else gets quoted. Quoting would
 * hide an encoded word from decoders, which is why atext words are never
 * quoted when they need not be.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "phrase.h"

/* Encoded word: "=?UTF-8?B?" + base64 + "?=" at most 75 characters
 * (RFC 2047 section 2), so at most 60 base64 characters, 45 bytes. */
#define EW_PREFIX       "=?UTF-8?B?"
#define EW_SUFFIX       "?="
#define EW_MAX_BYTES    45

/* is_atext - RFC 5322 atext, plus 8-bit bytes (RFC 6532) */
static int is_atext(unsigned char c)
{
    if (c >= 0x80)
        return 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_atext_words - white-space separated atext words, at least one */
static int is_atext_words(const char *t)
{
    int     words = 0;

    for (; *t; t++) {
        if (*t == ' ' || *t == '\t')
            continue;
        if (!is_atext((unsigned char) *t))
            return 0;
        if (t[1] == 0 || t[1] == ' ' || t[1] == '\t')
            words++;
    }
    return words > 0;
}

/* is_one_quoted_string - the whole text is one well-formed quoted string */
static int is_one_quoted_string(const char *t)
{
    size_t  i = 1;

    if (t[0] != '"')
        return 0;
    while (t[i] && t[i] != '"') {
        if (t[i] == '\\' && t[i + 1])
            i++;
        i++;
    }
    return t[i] == '"' && t[i + 1] == 0;
}

/* needs_encoding - any byte outside printable ASCII: 8-bit text, and
 * controls (a CR or LF must never reach a header as such) */
static int needs_encoding(const char *t)
{
    for (; *t; t++)
        if ((unsigned char) *t >= 0x7f || ((unsigned char) *t < 0x20 && *t != '\t'))
            return 1;
    return 0;
}

/* quote - text in a quoted string, '"' and '\' escaped */
static char *quote(const char *t)
{
    char   *out = malloc(2 * strlen(t) + 3), *o = out;

    if (out == NULL)
        return NULL;
    *o++ = '"';
    for (; *t; t++) {
        if (*t == '"' || *t == '\\')
            *o++ = '\\';
        *o++ = *t;
    }
    *o++ = '"';
    *o = 0;
    return out;
}

/* utf8_cut - length <= max that does not split a UTF-8 sequence; backs
 * off at most 3 bytes (a sequence is at most 4), which encode_words()
 * counts on when it sizes its buffer */
static size_t utf8_cut(const unsigned char *s, size_t len, size_t max)
{
    size_t  n;

    if (len <= max)
        return len;
    n = max;
    while (n > max - 3 && (s[n] & 0xC0) == 0x80)
        n--;
    return (s[n] & 0xC0) == 0x80 ? max : n;     /* not UTF-8: cut anywhere */
}

/* encode_words - text as RFC 2047 B-encoded UTF-8 words, space-separated */
static char *encode_words(const char *t)
{
    const unsigned char *s = (const unsigned char *) t;
    size_t  len = strlen(t), n;
    size_t  chunks = len / (EW_MAX_BYTES - 3) + 1;   /* a cut backs off <= 3 bytes */
    size_t  room = chunks * (sizeof(EW_PREFIX) + sizeof(EW_SUFFIX) + 4 * EW_MAX_BYTES / 3 + 4);
    char   *out = malloc(room), *o = out;

    if (out == NULL)
        return NULL;
    while (len > 0) {
        n = utf8_cut(s, len, EW_MAX_BYTES);
        if (o != out)
            *o++ = ' ';
        memcpy(o, EW_PREFIX, sizeof(EW_PREFIX) - 1);
        o += sizeof(EW_PREFIX) - 1;
        o += EVP_EncodeBlock((unsigned char *) o, s, (int) n);
        memcpy(o, EW_SUFFIX, sizeof(EW_SUFFIX) - 1);
        o += sizeof(EW_SUFFIX) - 1;
        s += n;
        len -= n;
    }
    *o = 0;
    return out;
}

/* unquote - the contents of a quoted string, quoted pairs undone */
static char *unquote(const char *t)
{
    size_t  len = strlen(t);
    char   *out = strndup(t + 1, len - 2), *r, *w;

    if (out == NULL)
        return NULL;
    for (r = w = out; *r; r++) {
        if (*r == '\\' && r[1])
            r++;
        *w++ = *r;
    }
    *w = 0;
    return out;
}

/* phrase_make - text as a display-name phrase */
char *phrase_make(const char *text, int may_encode)
{
    size_t  len;
    char   *t, *out, *plain;

    while (*text == ' ' || *text == '\t')
        text++;
    len = strlen(text);
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    if ((t = strndup(text, len)) == NULL)
        return NULL;
    if (may_encode && needs_encoding(t)) {
        plain = is_one_quoted_string(t) ? unquote(t) : strdup(t);
        out = plain ? encode_words(plain) : NULL;
        free(plain);
    } else if (*t == 0 || is_atext_words(t) || is_one_quoted_string(t)) {
        return t;
    } else {
        out = quote(t);
    }
    free(t);
    return out;
}
