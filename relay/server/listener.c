/*
 * listener.c - listening sockets, the allow check, one thread per client
 * (see listener.h).
 *
 * Client threads are detached and counted; the count bounds them
 * (max_clients) and lets shutdown wait for sessions in flight. Threads get
 * a small stack: a session keeps its buffers on the heap (smtpd_int.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "common/log.h"

#define THREAD_STACK (256 * 1024)

struct listener {
    const struct config *cfg;   /* the config it was opened with */
    size_t  n;
    int    *fds;
    char  **paths;              /* unix socket path, or NULL */
    pthread_mutex_t lock;
    pthread_cond_t idle;
    int     clients;
};

struct client {
    struct listener *l;
    struct smtpd_server *srv;
    int     fd;
    char    peer[128];
};

/* bind_inet - one TCP listener */
static int bind_inet(const struct listen_addr *la, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, on = 1;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, la->host, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
        ((struct sockaddr_in *) &ss)->sin_family = AF_INET;
        ((struct sockaddr_in *) &ss)->sin_port = htons((uint16_t) la->port);
        len = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, la->host,
                         &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *) &ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *) &ss)->sin6_port = htons((uint16_t) la->port);
        len = sizeof(struct sockaddr_in6);
    } else {
        snprintf(err, errlen, "listen %s: not an IP address", la->host);
        return -1;
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 128) < 0)
        goto fail;
    return fd;
fail:
    snprintf(err, errlen, "listen %s%s%s:%d: %s", strchr(la->host, ':') ? "[" : "",
             la->host, strchr(la->host, ':') ? "]" : "", la->port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

/* socket_in_use - does a live server answer on this unix socket? */
static int socket_in_use(const struct sockaddr_un *sun)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int live = fd >= 0 && connect(fd, (const struct sockaddr *) sun, sizeof(*sun)) == 0;

    if (fd >= 0)
        close(fd);
    return live;
}

/* socket_perms - socket_mode, socket_owner, socket_group on the file */
static int socket_perms(const struct config *cfg, const char *path, char *err,
                        size_t errlen)
{
    uid_t uid = (uid_t) -1;
    gid_t gid = (gid_t) -1;

    if (cfg->socket_owner && *cfg->socket_owner) {
        struct passwd *pw = getpwnam(cfg->socket_owner);
        if (pw == NULL) {
            snprintf(err, errlen, "socket_owner %s: no such user", cfg->socket_owner);
            return -1;
        }
        uid = pw->pw_uid;
    }
    if (cfg->socket_group && *cfg->socket_group) {
        struct group *gr = getgrnam(cfg->socket_group);
        if (gr == NULL) {
            snprintf(err, errlen, "socket_group %s: no such group", cfg->socket_group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if ((uid != (uid_t) -1 || gid != (gid_t) -1) && chown(path, uid, gid) < 0) {
        snprintf(err, errlen, "chown %s: %s", path, strerror(errno));
        return -1;
    }
    if (chmod(path, (mode_t) (cfg->socket_mode ? cfg->socket_mode : 0660)) < 0) {
        snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* bind_unix - one unix socket listener, created private, then opened up */
static int bind_unix(const struct config *cfg, const char *path, char *err,
                     size_t errlen)
{
    struct sockaddr_un sun;
    int fd;
    mode_t old;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(err, errlen, "listen unix:%s: path too long", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path));
    if (socket_in_use(&sun)) {
        snprintf(err, errlen, "listen unix:%s: another server is listening there", path);
        return -1;
    }
    unlink(path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    old = umask(0177);
    int rc = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
    umask(old);
    if (rc < 0 || listen(fd, 128) < 0) {
        snprintf(err, errlen, "listen unix:%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (socket_perms(cfg, path, err, errlen) < 0) {
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

/* listener_open - bind all listen addresses */
struct listener *listener_open(const struct config *cfg, char *err, size_t errlen)
{
    struct listener *l = calloc(1, sizeof(*l));

    if (l == NULL || (l->fds = calloc(cfg->nlisten + 1, sizeof(int))) == NULL
        || (l->paths = calloc(cfg->nlisten + 1, sizeof(char *))) == NULL) {
        snprintf(err, errlen, "out of memory");
        if (l)
            free(l->fds);
        free(l);
        return NULL;
    }
    l->cfg = cfg;
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->idle, NULL);
    for (size_t i = 0; i < cfg->nlisten; i++) {
        const struct listen_addr *la = &cfg->listen[i];
        int fd = la->kind == LISTEN_UNIX ? bind_unix(cfg, la->path, err, errlen)
            : bind_inet(la, err, errlen);
        if (fd < 0) {
            listener_close(l);
            return NULL;
        }
        l->fds[l->n] = fd;
        if (la->kind == LISTEN_UNIX && (l->paths[l->n] = strdup(la->path)) == NULL)
            abort();
        l->n++;
    }
    return l;
}

size_t listener_count(const struct listener *l)
{
    return l->n;
}

int listener_fd(const struct listener *l, size_t i)
{
    return l->fds[i];
}

/* cidr_match - does the address (4 or 16 bytes) fall in the network? */
static int cidr_match(const struct cidr *c, int family, const uint8_t *addr)
{
    int bits = c->bits;

    if (c->family != family)
        return 0;
    for (int i = 0; bits > 0; i++, bits -= 8) {
        uint8_t mask = bits >= 8 ? 0xff : (uint8_t) (0xff << (8 - bits));
        if ((addr[i] & mask) != (c->addr[i] & mask))
            return 0;
    }
    return 1;
}

/* cidr_allows - is this client address in the allow list? */
int cidr_allows(const struct cidr *allow, size_t n, const struct sockaddr *sa)
{
    int family = sa->sa_family;
    const uint8_t *addr;

    if (family == AF_UNIX)
        return 1;
    if (family == AF_INET) {
        addr = (const uint8_t *) &((const struct sockaddr_in *) sa)->sin_addr;
    } else if (family == AF_INET6) {
        addr = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *) sa)->sin6_addr)) {
            family = AF_INET;
            addr += 12;
        }
    } else {
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (cidr_match(&allow[i], family, addr))
            return 1;
    return 0;
}

/* peer_name - the client as logs name it */
static void peer_name(const struct sockaddr_storage *ss, const char *path,
                      char *buf, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (ss->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *) ss)->sin_addr, host, sizeof(host));
        snprintf(buf, size, "%s", host);
    } else if (ss->ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) ss)->sin6_addr, host,
                  sizeof(host));
        snprintf(buf, size, "[%s]", host);
    } else {
        snprintf(buf, size, "unix:%s", path ? path : "?");
    }
}

/* refuse - a one-line answer to a client we do not serve */
static void refuse(int fd, const char *line)
{
    ssize_t rc = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void) rc;
    close(fd);
}

/* client_main - the thread of one client */
static void *client_main(void *arg)
{
    struct client *c = arg;
    struct listener *l = c->l;

    smtpd_session(c->srv, c->fd, c->peer);
    smtpd_server_drop(c->srv);
    free(c);
    pthread_mutex_lock(&l->lock);
    if (--l->clients == 0)
        pthread_cond_broadcast(&l->idle);
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* admit - count the client in, unless max_clients are already served */
static int admit(struct listener *l, int max_clients)
{
    int ok;

    pthread_mutex_lock(&l->lock);
    ok = max_clients <= 0 || l->clients < max_clients;
    if (ok)
        l->clients++;
    pthread_mutex_unlock(&l->lock);
    return ok;
}

/* spawn - run the session on a detached thread */
static void spawn(struct listener *l, struct client *c)
{
    pthread_attr_t attr;
    pthread_t tid;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    if (pthread_create(&tid, &attr, client_main, c) != 0) {
        msg_error("cannot start a client thread: %s", strerror(errno));
        refuse(c->fd, "421 4.3.2 Out of resources, try again later\r\n");
        smtpd_server_drop(c->srv);
        free(c);
        pthread_mutex_lock(&l->lock);
        if (--l->clients == 0)
            pthread_cond_broadcast(&l->idle);
        pthread_mutex_unlock(&l->lock);
    }
    pthread_attr_destroy(&attr);
}

/* listener_accept - take one client (see listener.h) */
void listener_accept(struct listener *l, size_t i, struct smtpd_server *srv)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    const struct config *cfg = smtpd_server_config(srv);
    char peer[128];
    int fd = accept4(l->fds[i], (struct sockaddr *) &ss, &len, SOCK_CLOEXEC);

    if (fd < 0)
        return;
    peer_name(&ss, l->paths[i], peer, sizeof(peer));
    if (!cidr_allows(cfg->allow, cfg->nallow, (struct sockaddr *) &ss)) {
        msg_warn("reject: connect from %s: client address is not in allow", peer);
        refuse(fd, "554 5.7.1 Client address not allowed to relay (see allow in"
               " exorelay.conf)\r\n");
        return;
    }
    if (!admit(l, cfg->max_clients)) {
        msg_warn("reject: connect from %s: too many clients (max_clients = %d)",
                 peer, cfg->max_clients);
        refuse(fd, "421 4.3.2 Too many connections, try again later\r\n");
        return;
    }
    struct client *c = malloc(sizeof(*c));
    if (c == NULL)
        abort();
    c->l = l;
    c->srv = srv;
    c->fd = fd;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    smtpd_server_hold(srv);
    spawn(l, c);
}

int listener_clients(struct listener *l)
{
    pthread_mutex_lock(&l->lock);
    int n = l->clients;
    pthread_mutex_unlock(&l->lock);
    return n;
}

/* listener_wait_idle - shutdown: wait for the sessions to end */
void listener_wait_idle(struct listener *l)
{
    pthread_mutex_lock(&l->lock);
    while (l->clients > 0)
        pthread_cond_wait(&l->idle, &l->lock);
    pthread_mutex_unlock(&l->lock);
}

/* listener_stop - stop listening; sessions go on */
void listener_stop(struct listener *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->fds[i] >= 0)
            close(l->fds[i]);
        l->fds[i] = -1;
        if (l->paths[i])
            unlink(l->paths[i]);
        free(l->paths[i]);
        l->paths[i] = NULL;
    }
}

/* listener_close - stop listening and free (no session may run) */
void listener_close(struct listener *l)
{
    if (l == NULL)
        return;
    listener_stop(l);
    free(l->fds);
    free(l->paths);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->idle);
    free(l);
}
