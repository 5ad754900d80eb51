/*
 * milter_main.c - exorelay-milter: not written yet (placeholder).
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("exorelay-milter %s\n", EXORELAY_VERSION);
        return EX_OK;
    }
    fprintf(stderr, "exorelay-milter: not implemented yet\n");
    return EX_SOFTWARE;
}
