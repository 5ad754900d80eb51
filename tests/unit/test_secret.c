/*
 * test_secret.c - secret_t: fingerprints, file permissions, wiping API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secret.h"
#include "tap.h"

int main(void)
{
    char err[512];
    char path[256];
    const char *tmp = getenv("TESTS_TMP") ? getenv("TESTS_TMP") : "/tmp";
    secret_t *a = secret_new("hunter2", 7), *b = secret_new("hunter2", 7);
    secret_t *c = secret_new("hunter3", 7);

    ok(strncmp(secret_fingerprint(a), "sha256:", 7) == 0, "fingerprint has a sha256: prefix");
    ok(strstr(secret_fingerprint(a), "hunter2") == NULL, "fingerprint does not contain the secret");
    ok(secret_equal(a, b), "equal secrets compare equal");
    ok(!secret_equal(a, c), "different secrets compare different");
    is_str(secret_fingerprint(a), secret_fingerprint(b), "same secret, same fingerprint");

    snprintf(path, sizeof(path), "%s/secret.%ld", tmp, (long) getpid());
    FILE *fp = fopen(path, "w");
    fputs("s3cr3t-value\n", fp);
    fclose(fp);
    chmod(path, 0644);
    ok(secret_from_file(path, err, sizeof(err)) == NULL, "a 0644 secret file is refused");
    ok(strstr(err, "chmod 600") != NULL, "the refusal names the chmod: %s", err);
    chmod(path, 0640);
    ok(secret_from_file(path, err, sizeof(err)) == NULL, "a 0640 secret file is refused");
    ok(strstr(err, "group") != NULL, "the refusal says group: %s", err);
    chmod(path, 0600);
    secret_t *f = secret_from_file(path, err, sizeof(err));
    ok(f != NULL, "a 0600 secret file is read");
    size_t len;
    is_str(secret_reveal(f, &len), "s3cr3t-value", "trailing newline dropped");
    is_int(len, 12, "length without the newline");
    unlink(path);
    ok(secret_from_file(path, err, sizeof(err)) == NULL, "a missing file is refused");
    secret_free(a);
    secret_free(b);
    secret_free(c);
    secret_free(f);
    return done_testing();
}
