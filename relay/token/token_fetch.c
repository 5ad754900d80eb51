/*
 * token_fetch.c - get one account's token the way every exorelay process
 * shares: under the state file's lock, take the file's token if it will
 * do, else make one request to Entra ID and write the result back.
 *
 * SYNOPSIS
 *	int token_fetch(params, want_fresh, &state, &requested)
 *		0 with state->token (valid TOKEN_MIN_VALID seconds more; with
 *		want_fresh, not yet due for refresh), or -1 with state->diag
 *		(state->token may still hold the current, valid token).
 *		*requested says whether Entra was asked. After a failure the
 *		file records it with the time before which nobody asks again
 *		(backoff, Retry-After), so a crowd of processes does not
 *		hammer Entra: they get the recorded diagnosis instead.
 *	void token_forget(params, token)
 *		Remove token from the state file if it is still the one there.
 *
 * Without a usable state directory the fetch still works, unshared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "common/log.h"
#include "token_int.h"

#define CLIENT_ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

/* form_add - append "&name=escaped(value)"; -1 when out of memory */
static int form_add(char **form, size_t *len, const char *name,
                    const char *value, size_t vlen)
{
    char *esc = curl_easy_escape(NULL, value, (int) vlen);
    size_t need = *len + 1 + strlen(name) + 1 + (esc ? strlen(esc) : 0) + 1;
    char *grown = esc ? malloc(need) : NULL;

    if (grown != NULL) {
        snprintf(grown, need, "%s%s%s=%s", *form ? *form : "", *len ? "&" : "",
                 name, esc);
        if (*form) {
            OPENSSL_cleanse(*form, *len);
            free(*form);
        }
        *form = grown;
        *len = strlen(grown);
    }
    if (esc) {
        OPENSSL_cleanse(esc, strlen(esc));
        curl_free(esc);
    }
    return grown ? 0 : -1;
}

/* build_form - the url-encoded request body, as a secret */
static secret_t *build_form(const struct token_params *p,
                            const struct token_cred *cred, const char *url,
                            struct token_diag *diag)
{
    char *form = NULL, err[256];
    size_t len = 0, slen;
    const char *text;
    secret_t *assertion = NULL, *out = NULL;
    int ok;

    if (cred->key && (assertion = jwt_client_assertion(cred->key, cred->cert,
                      p->jwt_alg, url, p->client_id, time(NULL), err,
                      sizeof(err))) == NULL) {
        entra_diag_set(diag, 0, err, "private_key_file must be the RSA or EC "
                       "P-256 key of certificate_file", "");
        return NULL;
    }
    text = secret_reveal(cred->secret ? cred->secret : assertion, &slen);
    ok = form_add(&form, &len, "client_id", p->client_id, strlen(p->client_id))
        == 0 && form_add(&form, &len, "scope", p->scope, strlen(p->scope)) == 0;
    if (ok && cred->secret)
        ok = form_add(&form, &len, "client_secret", text, slen) == 0;
    else if (ok)
        ok = form_add(&form, &len, "client_assertion_type", CLIENT_ASSERTION_TYPE,
                      strlen(CLIENT_ASSERTION_TYPE)) == 0
            && form_add(&form, &len, "client_assertion", text, slen) == 0;
    ok = ok && form_add(&form, &len, "grant_type", "client_credentials", 18) == 0;
    if (ok)
        out = secret_new(form, len);
    if (out == NULL)
        entra_diag_set(diag, 1, "out of memory", "", "");
    if (form) {
        OPENSSL_cleanse(form, len);
        free(form);
    }
    secret_free(assertion);
    return out;
}

/* ask_entra - one request; the outcome goes into st */
static int ask_entra(const struct token_params *p, const struct token_cred *cred,
                     struct token_state *st, time_t now)
{
    char url[2048];
    struct token_diag diag = {0};
    struct http_reply reply;
    secret_t *form = NULL, *token = NULL;
    long expires_in = 0;
    int rc = -1;

    if (token_endpoint(p, url, sizeof(url)) < 0)
        entra_diag_set(&diag, 0, "the token endpoint URL is too long",
                       "check authority = and tenant =", "");
    else if ((form = build_form(p, cred, url, &diag)) == NULL)
        ;
    else if (token_http_post(p, url, form, &reply) < 0)
        entra_diag_transport(&diag, &reply, url, p->ca_file);
    else
        rc = token_reply_parse(&reply, &token, &expires_in, &diag);
    if (form) {
        http_reply_free(&reply);
        entra_diag_redact(&diag, form);
        entra_diag_redact(&diag, cred->secret);
    }
    secret_free(form);
    if (rc == 0) {
        secret_free(st->token);
        st->token = token;
        st->obtained = now;
        st->expires = now + expires_in;
        st->failures = 0;
        st->retry_at = 0;
        memset(&st->diag, 0, sizeof(st->diag));
        return 0;
    }
    st->failures++;
    st->diag = diag;
    st->retry_at = now + token_backoff(st->failures, diag.retry_after, diag.temporary,
                                       st->token ? st->expires - TOKEN_MIN_VALID - now : 0);
    return -1;
}

/* usable - will the state file's token do? */
static int usable(const struct token_state *st, time_t now, int want_fresh)
{
    if (st->token == NULL || st->expires - now < TOKEN_MIN_VALID)
        return 0;
    return !want_fresh || now < token_refresh_at(st->obtained, st->expires);
}

/* log_outcome - one line per request, never the token itself */
static void log_outcome(const struct token_params *p, const struct token_state *st,
                        int rc, time_t now)
{
    char    cause[600];

    if (rc == 0) {
        msg_info("token: account %s: new token from Entra ID, valid %ld s (%s)",
                 p->name, (long) (st->expires - now), secret_fingerprint(st->token));
        return;
    }
    entra_diag_line(&st->diag, p->authority, cause, sizeof(cause));   /* who failed */
    msg_warn("token: account %s: %s; fix: %s [%s; next attempt in %ld s]",
             p->name, cause, st->diag.fix, st->diag.detail, (long) (st->retry_at - now));
}

/* expired_certificate - say so before Entra does, more clearly */
static int expired_certificate(const struct token_cred *cred, time_t now,
                               struct token_diag *diag)
{
    char cause[128];
    struct tm tm;

    if (cred->not_after == 0 || cred->not_after > now)
        return 0;
    gmtime_r(&cred->not_after, &tm);
    strftime(cause, sizeof(cause), "the certificate expired on %Y-%m-%d", &tm);
    entra_diag_set(diag, 0, cause, "create a new certificate, upload it to the "
                   "app registration and set certificate_file and "
                   "private_key_file to it", "");
    return 1;
}

/* token_fetch - see above */
int token_fetch(const struct token_params *p, int want_fresh,
                struct token_state *st, int *requested)
{
    struct token_cred cred;
    char path[4096];
    int lockfd = -1, rc;
    time_t now;

    *requested = 0;
    memset(st, 0, sizeof(*st));
    if (token_cred_load(p, &cred, &st->diag) < 0) {
        msg_warn("token: account %s: %s; fix: %s", p->name, st->diag.cause,
                 st->diag.fix);
        return -1;
    }
    if (token_cache_path(p, path, sizeof(path)) == 0
        && (lockfd = token_cache_lock(path)) >= 0)
        token_cache_read(path, p, cred.fingerprint, st);
    now = time(NULL);
    if (usable(st, now, want_fresh)) {
        msg_debug("token: account %s: token from %s, valid %ld s more",
                  p->name, path, (long) (st->expires - now));
        rc = 0;
    } else if (st->failures > 0 && st->retry_at > now) {
        msg_debug("token: account %s: not asking Entra ID again before %ld s "
                  "(last attempt failed)", p->name, (long) (st->retry_at - now));
        rc = -1;
    } else if (expired_certificate(&cred, now, &st->diag)) {
        rc = -1;
    } else {
        *requested = 1;
        rc = ask_entra(p, &cred, st, now);
        log_outcome(p, st, rc, now);
        if (lockfd >= 0)
            token_cache_write(path, p, cred.fingerprint, st);
    }
    token_cache_unlock(lockfd);
    token_cred_free(&cred);
    return rc;
}

/* token_forget - see above */
void token_forget(const struct token_params *p, const secret_t *token)
{
    struct token_cred cred;
    struct token_state st;
    struct token_diag diag;
    char path[4096];
    int lockfd;

    if (token_cache_path(p, path, sizeof(path)) < 0
        || token_cred_load(p, &cred, &diag) < 0)
        return;
    if ((lockfd = token_cache_lock(path)) >= 0) {
        if (token_cache_read(path, p, cred.fingerprint, &st) == 1
            && secret_equal(st.token, token)) {
            secret_free(st.token);
            st.token = NULL;
            st.expires = st.obtained = 0;
            token_cache_write(path, p, cred.fingerprint, &st);
        }
        token_state_clear(&st);
        token_cache_unlock(lockfd);
    }
    token_cred_free(&cred);
}
