/* SPDX-License-Identifier: MIT */
/*
 * liblicense-client.so: checks a seat out of the license server
 * (license-server.c).  The seat is held as long as the returned connection
 * stays open.  lic_checkout() is exported so that a Cocoon plugin can
 * interpose it (dlsym(RTLD_NEXT)).
 */
#ifndef EDA_LICENSE_CLIENT_H
#define EDA_LICENSE_CLIENT_H

/* Check a seat for feature out of the server at "host:port"; the connected
 * fd that holds it, or -1 with errno set (EBUSY: no seat free) and one
 * "license: ..." line on stderr. */
int lic_checkout(const char *addr, const char *feature);

/* Give the seat back and close fd; 0, or -1 with errno set. */
int lic_release(int fd);

#endif
