/*
 * smtp_data.c - CRLF line ends and dot-stuffing for the DATA stream
 * (smtp_data.h).
 */
#include <string.h>

#include "smtp_data.h"

/* smtp_data_init - a new DATA stream starts at the beginning of a line */
void smtp_data_init(struct smtp_data_enc *enc)
{
    memset(enc, 0, sizeof(*enc));
    enc->at_bol = 1;
    enc->dot_stuff = 1;
}

/* smtp_data_init_bdat - BDAT content: line ends only */
void smtp_data_init_bdat(struct smtp_data_enc *enc)
{
    smtp_data_init(enc);
    enc->dot_stuff = 0;
}

/* smtp_data_encode - encode one piece of content; out holds 2*len+2 */
size_t smtp_data_encode(struct smtp_data_enc *enc, const char *in, size_t len,
                        char *out)
{
    size_t  n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) in[i];

        if (enc->pending_cr) {
            enc->pending_cr = 0;
            out[n++] = '\r', out[n++] = '\n';
            enc->at_bol = 1;
            if (c == '\n')
                continue;
        }
        if (c == '\r') {
            enc->pending_cr = 1;
            continue;
        }
        if (c == '\n') {
            out[n++] = '\r', out[n++] = '\n';
            enc->at_bol = 1;
            continue;
        }
        if (enc->at_bol && c == '.' && enc->dot_stuff) {
            out[n++] = '.';
            enc->stuffed++;
        }
        if (c > 127)
            enc->eight_bit = 1;
        out[n++] = (char) c;
        enc->at_bol = 0;
    }
    enc->out_bytes += (long long) n;
    return n;
}

/* smtp_data_finish - end the last line if needed, then the "." line */
size_t smtp_data_finish(struct smtp_data_enc *enc, char *out)
{
    size_t  n = 0;

    if (enc->pending_cr || !enc->at_bol)
        out[n++] = '\r', out[n++] = '\n';
    enc->pending_cr = 0;
    enc->at_bol = 1;
    if (enc->dot_stuff) {
        memcpy(out + n, ".\r\n", 3);
        n += 3;
    }
    enc->out_bytes += (long long) n;
    return n;
}

/* smtp_data_size - the message as RFC 1870 counts it (after finish) */
long long smtp_data_size(const struct smtp_data_enc *enc)
{
    return enc->out_bytes - enc->stuffed - (enc->dot_stuff ? 3 : 0);
}
