/*
 * ops.h - the daemon's operations thread: the control socket for
 * "exorelay status", the metrics file, and the periodic credential-expiry
 * check with its alarm mail. Started by "exorelay run" once it serves.
 *
 * SYNOPSIS
 *	void ops_start(srv)
 *		Open control_socket (0600), check credential expiry at once
 *		and then every OPS_ALARM_INTERVAL seconds (alarms.h), write
 *		metrics_file at once and every metrics_interval seconds, and
 *		tell systemd READY=1 (sd_notify.h). Failures are logged; the
 *		relay serves mail without its operations thread if need be.
 *	void ops_reload(srv)
 *		A SIGHUP made a new server generation: use its config and
 *		pools from now on (control_socket moves only on restart),
 *		and check its credentials (expiry alarms) and write the
 *		metrics at once, not at the next tick.
 *	void ops_stop(void)
 *		STOPPING=1 to systemd, end the thread, remove the socket;
 *		a last metrics_file with exorelay_up 0.
 */
#ifndef EXORELAY_OPS_H
#define EXORELAY_OPS_H

#include "server/smtpd.h"

#define OPS_ALARM_INTERVAL 300  /* seconds between credential-expiry checks */

void ops_start(struct smtpd_server *srv);
void ops_reload(struct smtpd_server *srv);
void ops_stop(void);

#endif
