/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_TLS_RELAY_H
#define ALTPOP_TLS_RELAY_H

/* altpop's relay of a TLS session after login. login-common hands the
   post-login process one end of a socket pair and relays between it and
   the client's TLS streams with its generic iostream proxy (8 KB passes,
   every byte through OpenSSL's memory BIO pair and two stream buffers).
   The relay takes that over once login-common is done with the client:
   OpenSSL then reads and writes the client's socket itself, full-size
   TLS records go out in one send() each (with MSG_MORE while more of
   the block follows, so the kernel sends full segments), and the socket
   pair is read in large blocks. Dovecot did the handshake, so its TLS settings (protocols,
   ciphers, certificates, SNI, client certificates) all still apply; on
   close the client's TLS session is shut down by login-common as before
   (close_notify), and the post-login process sees EOF when the client
   goes. The same relay carries a proxied client's TLS session on a
   front (altpop_tls_relay_proxy_takeover()). */

struct client;

/* From the destroy vfunc: if login-common relays this client's TLS
   session to the post-login process, the relay takes it over (and the
   client reference login-common's proxy held). Otherwise, or if the
   session is in a state the relay does not take over (output not yet
   flushed), nothing changes. */
void altpop_tls_relay_takeover(struct client *client);

/* Before login-common's proxy to a backend is detached: if the client
   speaks TLS, the relay carries the TLS session, and the proxy gets the
   plaintext end of a socket pair in place of the client's TLS streams
   (so it still relays, logs, lists and kicks the session as before).
   FALSE: nothing changed (no TLS, or output not flushed yet). */
bool altpop_tls_relay_proxy_takeover(struct client *client);

/* From the free vfunc (the last client reference went, e.g. at process
   shutdown): releases the relay without touching the client. */
void altpop_tls_relay_free(struct client *client);

/* At process shutdown, after login-common's proxies are gone: ends the
   relays of proxied sessions. */
void altpop_tls_relay_deinit(void);

#endif
