/*
 * listener.h -- the listening sockets (TCP from -l/-p, or a unix socket from
 * -s/-a) and the accept loop that hands connections to workers.
 */
#ifndef STASHD_DAEMON_LISTENER_H
#define STASHD_DAEMON_LISTENER_H

#include <stddef.h>
#include <stdbool.h>

struct listener;
struct server;

/* Bind and listen as srv->settings says, watching the sockets on
 * srv->base.  NULL on failure (the reason has been logged). */
struct listener *listener_create(struct server *srv);

/* Close the sockets (removing a unix socket file) and free l. */
void listener_destroy(struct listener *l);

/* Call fn with the bound port of every TCP listening socket, in the order
 * they were opened (the port file of MEMCACHED_PORT_FILENAME). */
void listener_each_port(const struct listener *l,
                        void (*fn)(void *ctx, bool v6, unsigned port),
                        void *ctx);

/* Call fn for every listening socket (stats conns). */
void listener_each(const struct listener *l,
                   void (*fn)(void *ctx, int fd, const char *name),
                   void *ctx);

/* Split "host", "host:port", "[v6]", "[v6]:port" (modified in place) into
 * *host and port[0..n), defport when none is given.  0, or -1 if bad. */
int listener_split(char *spec, long defport, char **host, char *port,
                   size_t n);

struct addrinfo;

/* listener_split, then getaddrinfo for a passive socket of socktype
 * (*host NULL for "*" or none); logs why and returns -1 on failure, else 0
 * with *ai for the caller to freeaddrinfo. */
int listener_resolve(char *spec, long defport, int socktype, char **host,
                     char *port, size_t n, struct addrinfo **ai);

#endif
