/*
 * metrics.h - the daemon's status in the Prometheus text exposition
 * format, for node_exporter's textfile collector (no HTTP server needed).
 *
 * SYNOPSIS
 *	int metrics_write(path, status)
 *		Render status (status_info.h, with the daemon's part) and
 *		replace path with it atomically (file_replace.h), mode 0644.
 *		0, or -1 with errno.
 *	char *metrics_render(status)      the text (caller frees)
 *
 * Metrics (every one labelled account="NAME" unless noted):
 *	exorelay_up                                  1 (no label); 0 in the
 *	                                             last file, written on a
 *	                                             clean shutdown
 *	exorelay_client_sessions                     client sessions (threads)
 *	                                             served now (no label)
 *	exorelay_metrics_timestamp_seconds           when written (no label):
 *	                                             alert when it gets old
 *	exorelay_messages_total{outcome=...}         accepted, relayed,
 *	                                             deferred, refused
 *	exorelay_credential_expiry_timestamp_seconds
 *	exorelay_credential_days_left
 *	exorelay_token_expiry_timestamp_seconds      cached token
 *	exorelay_token_failing                       1 while the last token
 *	                                             request failed
 *	exorelay_pool_connections{state=open|busy}
 *	exorelay_last_error_timestamp_seconds
 *	exorelay_spool_messages{state=waiting|queued|failed}   (no account)
 */
#ifndef EXORELAY_METRICS_H
#define EXORELAY_METRICS_H

#include <jansson.h>

int metrics_write(const char *path, json_t *status);
char *metrics_render(json_t *status);

#endif
