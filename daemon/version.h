/*
 * version.h -- the versions stashd reports.
 *
 * Clients read the protocol "version" reply to decide which features a
 * server has (libmemcached parses it as major.minor.micro), so stashd answers
 * with the memcached release whose protocol it speaks; its own version is in
 * -V and in the "stashd_version" stat.
 */
#ifndef STASHD_DAEMON_VERSION_H
#define STASHD_DAEMON_VERSION_H

#include "config.h"

#define STASHD_VERSION PACKAGE_VERSION
#define STASHD_PROTOCOL_VERSION "1.6.18"

#endif
