/* SPDX-License-Identifier: LGPL-2.1-only */
/* altpop's relay of a TLS session after login: see tls-relay.h.

   Two directions share the client's SSL object and socket:
   down: socket pair (post-login process) -> SSL_write -> client socket
   up:   client socket -> SSL_read -> socket pair
   Each direction runs until it would block and then waits for exactly one
   thing (the socket pair, or the client socket readable or writable); the
   ios follow what the two directions wait for. */

#include "login-common.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "buffer.h"
#include "fd-util.h"
#include "llist.h"
#include "iostream-proxy.h"
#include "iostream-openssl.h"
#include "altpop-login.h"
#include "login-glue.h"
#include "tls-relay.h"

#include <unistd.h>
#include <sys/socket.h>
#include <openssl/err.h>

/* The plaintext of one full TLS record (RFC 8446 section 5.1: at most
   2^14 bytes) */
#define ALTPOP_TLS_RELAY_RECORD_SIZE 16384
/* How much of the post-login process's output one read() of the socket
   pair takes: four full TLS records */
#define ALTPOP_TLS_RELAY_DOWN_SIZE (4 * ALTPOP_TLS_RELAY_RECORD_SIZE)
/* What one SSL_read() may return: one record's plaintext */
#define ALTPOP_TLS_RELAY_UP_SIZE ALTPOP_TLS_RELAY_RECORD_SIZE
/* Blocks one direction moves before it lets other clients of the
   process run (the socket it waits for is still ready then) */
#define ALTPOP_TLS_RELAY_MAX_PASSES 16

enum altpop_tls_relay_wait {
	ALTPOP_TLS_RELAY_WAIT_NONE = 0,
	ALTPOP_TLS_RELAY_WAIT_CLIENT_READ,
	ALTPOP_TLS_RELAY_WAIT_CLIENT_WRITE,
	ALTPOP_TLS_RELAY_WAIT_PAIR,
};

struct altpop_tls_relay {
	/* proxied sessions' relays: altpop_tls_relay_proxies */
	struct altpop_tls_relay *prev, *next;
	struct client *client;
	SSL *ssl;
	struct altpop_tls_bio *bio;
	int client_fd, pair_fd;
	/* login-common's streams of the socket pair: the input owns (and
	   closes) pair_fd; the relay reads and writes the fd itself */
	struct istream *pair_input;
	struct ostream *pair_output;
	/* what the socket pair leads to, for the debug lines */
	const char *peer;
	/* a proxied session: the client's TLS streams, which login-common's
	   proxy no longer holds (it relays the socket pair instead) */
	struct istream *tls_input;
	struct ostream *tls_output;

	struct io *io_client_read, *io_client_write;
	struct io *io_pair_read, *io_pair_write;

	unsigned char *down_buf;
	size_t down_pos, down_end;
	unsigned char *up_buf;
	size_t up_size, up_pos, up_end;

	enum altpop_tls_relay_wait down_wait, up_wait;
};

/* The client socket as OpenSSL's BIO after the takeover: reads first
   return the TLS bytes login-common had already read from the socket
   but OpenSSL had not yet consumed. */
struct altpop_tls_bio {
	int fd;
	buffer_t *prefix;
	size_t prefix_pos;
	/* more records follow at once: the kernel may hold back a partly
	   filled segment (MSG_MORE) until the last one is written */
	bool more;
};

static BIO_METHOD *altpop_tls_bio_method;
/* the relays of proxied sessions, which hold a client reference of their
   own: ended at process shutdown after login-common's proxies */
static struct altpop_tls_relay *altpop_tls_relay_proxies;

static int altpop_tls_bio_write(BIO *bio, const char *data, int size)
{
	struct altpop_tls_bio *ctx = BIO_get_data(bio);
	ssize_t ret;

	BIO_clear_retry_flags(bio);
	ret = send(ctx->fd, data, size, ctx->more ? MSG_MORE : 0);
	if (ret < 0 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_write(bio);
	return ret;
}

static int altpop_tls_bio_read(BIO *bio, char *data, int size)
{
	struct altpop_tls_bio *ctx = BIO_get_data(bio);
	ssize_t ret;

	BIO_clear_retry_flags(bio);
	if (ctx->prefix != NULL) {
		size_t avail = ctx->prefix->used - ctx->prefix_pos;
		size_t n = I_MIN(avail, (size_t)size);

		memcpy(data, CONST_PTR_OFFSET(ctx->prefix->data,
					      ctx->prefix_pos), n);
		ctx->prefix_pos += n;
		if (ctx->prefix_pos == ctx->prefix->used)
			buffer_free(&ctx->prefix);
		return n;
	}
	ret = read(ctx->fd, data, size);
	if (ret < 0 && (errno == EAGAIN || errno == EINTR))
		BIO_set_retry_read(bio);
	return ret;
}

static long
altpop_tls_bio_ctrl(BIO *bio ATTR_UNUSED, int cmd, long num ATTR_UNUSED,
		    void *ptr ATTR_UNUSED)
{
	/* writes go straight to the socket: nothing to flush */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int altpop_tls_bio_destroy(BIO *bio)
{
	struct altpop_tls_bio *ctx = BIO_get_data(bio);

	if (ctx != NULL) {
		buffer_free(&ctx->prefix);
		i_free(ctx);
		BIO_set_data(bio, NULL);
	}
	return 1;
}

/* The BIO is made before anything is taken out of login-common's
   streams: if it cannot be made, login-common keeps the session whole. */
static BIO *altpop_tls_bio_create(int fd)
{
	struct altpop_tls_bio *ctx;
	BIO *bio;

	if (altpop_tls_bio_method == NULL) {
		altpop_tls_bio_method =
			BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				     "altpop TLS relay");
		if (altpop_tls_bio_method == NULL)
			return NULL;
		BIO_meth_set_write(altpop_tls_bio_method, altpop_tls_bio_write);
		BIO_meth_set_read(altpop_tls_bio_method, altpop_tls_bio_read);
		BIO_meth_set_ctrl(altpop_tls_bio_method, altpop_tls_bio_ctrl);
		BIO_meth_set_destroy(altpop_tls_bio_method,
				     altpop_tls_bio_destroy);
	}
	bio = BIO_new(altpop_tls_bio_method);
	if (bio == NULL)
		return NULL;
	ctx = i_new(struct altpop_tls_bio, 1);
	ctx->fd = fd;
	BIO_set_data(bio, ctx);
	BIO_set_init(bio, 1);
	return bio;
}

static struct altpop_tls_relay **
altpop_tls_relay_ptr(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	return &aclient->tls_relay;
}

static void altpop_tls_relay_destroy(struct altpop_tls_relay **_relay)
{
	struct altpop_tls_relay *relay = *_relay;

	*_relay = NULL;
	if (relay->tls_input != NULL)
		DLLIST_REMOVE(&altpop_tls_relay_proxies, relay);
	io_remove(&relay->io_client_read);
	io_remove(&relay->io_client_write);
	io_remove(&relay->io_pair_read);
	io_remove(&relay->io_pair_write);
	/* closes the socket pair: the post-login process sees EOF */
	o_stream_destroy(&relay->pair_output);
	i_stream_destroy(&relay->pair_input);
	i_stream_unref(&relay->tls_input);
	o_stream_unref(&relay->tls_output);
	i_free(relay->down_buf);
	i_free(relay->up_buf);
	i_free(relay);
}

/* The session is over: the client reference the relay took over from
   login-common's proxy goes, and with it (login-common) the client's TLS
   session (close_notify) and socket. */
static void
altpop_tls_relay_finish(struct altpop_tls_relay *relay, const char *reason)
{
	struct client *client = relay->client;

	e_debug(client->event, "TLS relay finished: %s", reason);
	*altpop_tls_relay_ptr(client) = NULL;
	altpop_tls_relay_destroy(&relay);
	client_unref(&client);
}

static const char *altpop_tls_relay_ssl_error(const char *func)
{
	unsigned long err = ERR_get_error();
	char buf[256];

	if (err == 0)
		return t_strdup_printf("%s failed: %m", func);
	ERR_error_string_n(err, buf, sizeof(buf));
	ERR_clear_error();
	return t_strdup_printf("%s failed: %s", func, buf);
}

/* What an SSL call that returned ret <= 0 waits for; NONE: the session
   is over (reason_r says why) */
static enum altpop_tls_relay_wait
altpop_tls_relay_ssl_wait(struct altpop_tls_relay *relay, int ret,
			  const char *func, const char **reason_r)
{
	switch (SSL_get_error(relay->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		return ALTPOP_TLS_RELAY_WAIT_CLIENT_READ;
	case SSL_ERROR_WANT_WRITE:
		return ALTPOP_TLS_RELAY_WAIT_CLIENT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		*reason_r = "client closed the TLS session";
		return ALTPOP_TLS_RELAY_WAIT_NONE;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && (ret == 0 || errno == 0)) {
			*reason_r = "client disconnected";
			return ALTPOP_TLS_RELAY_WAIT_NONE;
		}
		/* fall through */
	default:
		*reason_r = altpop_tls_relay_ssl_error(func);
		return ALTPOP_TLS_RELAY_WAIT_NONE;
	}
}

/* post-login process -> client. FALSE: the relay is gone. */
static bool altpop_tls_relay_down(struct altpop_tls_relay *relay)
{
	const char *reason;
	unsigned int passes = 0;
	ssize_t ret;
	int sret;

	relay->down_wait = ALTPOP_TLS_RELAY_WAIT_NONE;
	for (;;) {
		if (relay->down_pos == relay->down_end) {
			if (++passes > ALTPOP_TLS_RELAY_MAX_PASSES) {
				relay->down_wait = ALTPOP_TLS_RELAY_WAIT_PAIR;
				return TRUE;
			}
			ret = read(relay->pair_fd, relay->down_buf,
				   ALTPOP_TLS_RELAY_DOWN_SIZE);
			if (ret == 0) {
				altpop_tls_relay_finish(relay, t_strdup_printf(
					"%s closed the session", relay->peer));
				return FALSE;
			}
			if (ret < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN) {
					relay->down_wait =
						ALTPOP_TLS_RELAY_WAIT_PAIR;
					return TRUE;
				}
				altpop_tls_relay_finish(relay, t_strdup_printf(
					"read(socket pair) failed: %m"));
				return FALSE;
			}
			relay->down_pos = 0;
			relay->down_end = ret;
		}
		ERR_clear_error();
		/* with SSL_MODE_ENABLE_PARTIAL_WRITE (Dovecot sets it) one
		   SSL_write() writes one record */
		relay->bio->more = relay->down_end - relay->down_pos >
			ALTPOP_TLS_RELAY_RECORD_SIZE;
		sret = SSL_write(relay->ssl, relay->down_buf + relay->down_pos,
				 relay->down_end - relay->down_pos);
		relay->bio->more = FALSE;
		if (sret > 0) {
			relay->down_pos += sret;
			continue;
		}
		relay->down_wait = altpop_tls_relay_ssl_wait(relay, sret,
							     "SSL_write()",
							     &reason);
		if (relay->down_wait == ALTPOP_TLS_RELAY_WAIT_NONE) {
			altpop_tls_relay_finish(relay, reason);
			return FALSE;
		}
		return TRUE;
	}
}

/* client -> post-login process. FALSE: the relay is gone. */
static bool altpop_tls_relay_up(struct altpop_tls_relay *relay)
{
	const char *reason;
	unsigned int passes = 0;
	ssize_t ret;
	int sret;

	relay->up_wait = ALTPOP_TLS_RELAY_WAIT_NONE;
	for (;;) {
		if (relay->up_pos == relay->up_end) {
			if (++passes > ALTPOP_TLS_RELAY_MAX_PASSES &&
			    SSL_pending(relay->ssl) == 0) {
				relay->up_wait =
					ALTPOP_TLS_RELAY_WAIT_CLIENT_READ;
				return TRUE;
			}
			ERR_clear_error();
			sret = SSL_read(relay->ssl, relay->up_buf,
					relay->up_size);
			if (sret <= 0) {
				relay->up_wait = altpop_tls_relay_ssl_wait(
					relay, sret, "SSL_read()", &reason);
				if (relay->up_wait ==
				    ALTPOP_TLS_RELAY_WAIT_NONE) {
					altpop_tls_relay_finish(relay, reason);
					return FALSE;
				}
				return TRUE;
			}
			relay->up_pos = 0;
			relay->up_end = sret;
		}
		ret = write(relay->pair_fd, relay->up_buf + relay->up_pos,
			    relay->up_end - relay->up_pos);
		if (ret > 0) {
			relay->up_pos += ret;
			continue;
		}
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0 && errno == EAGAIN) {
			relay->up_wait = ALTPOP_TLS_RELAY_WAIT_PAIR;
			return TRUE;
		}
		altpop_tls_relay_finish(relay, ret < 0 && errno == EPIPE ?
			t_strdup_printf("%s closed the session", relay->peer) :
			t_strdup_printf("write(socket pair) failed: %m"));
		return FALSE;
	}
}

static void altpop_tls_relay_client_read(struct altpop_tls_relay *relay);
static void altpop_tls_relay_client_write(struct altpop_tls_relay *relay);
static void altpop_tls_relay_pair_read(struct altpop_tls_relay *relay);
static void altpop_tls_relay_pair_write(struct altpop_tls_relay *relay);

/* the ios follow what the two directions wait for */
static void altpop_tls_relay_update_ios(struct altpop_tls_relay *relay)
{
	enum altpop_tls_relay_wait down = relay->down_wait, up = relay->up_wait;

	if (down != ALTPOP_TLS_RELAY_WAIT_CLIENT_READ &&
	    up != ALTPOP_TLS_RELAY_WAIT_CLIENT_READ)
		io_remove(&relay->io_client_read);
	else if (relay->io_client_read == NULL) {
		relay->io_client_read = io_add(relay->client_fd, IO_READ,
			altpop_tls_relay_client_read, relay);
	}
	if (down != ALTPOP_TLS_RELAY_WAIT_CLIENT_WRITE &&
	    up != ALTPOP_TLS_RELAY_WAIT_CLIENT_WRITE)
		io_remove(&relay->io_client_write);
	else if (relay->io_client_write == NULL) {
		relay->io_client_write = io_add(relay->client_fd, IO_WRITE,
			altpop_tls_relay_client_write, relay);
	}
	if (down != ALTPOP_TLS_RELAY_WAIT_PAIR)
		io_remove(&relay->io_pair_read);
	else if (relay->io_pair_read == NULL) {
		relay->io_pair_read = io_add(relay->pair_fd, IO_READ,
			altpop_tls_relay_pair_read, relay);
	}
	if (up != ALTPOP_TLS_RELAY_WAIT_PAIR)
		io_remove(&relay->io_pair_write);
	else if (relay->io_pair_write == NULL) {
		relay->io_pair_write = io_add(relay->pair_fd, IO_WRITE,
			altpop_tls_relay_pair_write, relay);
	}
}

/* runs the directions waiting for what is now ready */
static void
altpop_tls_relay_ready(struct altpop_tls_relay *relay,
		       enum altpop_tls_relay_wait down_ready,
		       enum altpop_tls_relay_wait up_ready)
{
	if (relay->down_wait == down_ready) {
		if (!altpop_tls_relay_down(relay))
			return;
	}
	if (relay->up_wait == up_ready) {
		if (!altpop_tls_relay_up(relay))
			return;
	}
	altpop_tls_relay_update_ios(relay);
}

static void altpop_tls_relay_client_read(struct altpop_tls_relay *relay)
{
	altpop_tls_relay_ready(relay, ALTPOP_TLS_RELAY_WAIT_CLIENT_READ,
			       ALTPOP_TLS_RELAY_WAIT_CLIENT_READ);
}

static void altpop_tls_relay_client_write(struct altpop_tls_relay *relay)
{
	altpop_tls_relay_ready(relay, ALTPOP_TLS_RELAY_WAIT_CLIENT_WRITE,
			       ALTPOP_TLS_RELAY_WAIT_CLIENT_WRITE);
}

static void altpop_tls_relay_pair_read(struct altpop_tls_relay *relay)
{
	altpop_tls_relay_ready(relay, ALTPOP_TLS_RELAY_WAIT_PAIR,
			       ALTPOP_TLS_RELAY_WAIT_NONE);
}

static void altpop_tls_relay_pair_write(struct altpop_tls_relay *relay)
{
	altpop_tls_relay_ready(relay, ALTPOP_TLS_RELAY_WAIT_NONE,
			       ALTPOP_TLS_RELAY_WAIT_PAIR);
}

/* Whatever login-common's streams hold must be somewhere the relay
   finds it: output fully flushed (into the kernel), so the relay's
   records follow it; input either moved (plaintext, TLS bytes) or left
   to OpenSSL's own record buffer. */
static bool
altpop_tls_relay_can_take_over(struct client *client,
			       struct ssl_iostream *ssl_io,
			       struct ostream *client_output,
			       struct ostream *pair_output,
			       const char **reason_r)
{
	if (!ssl_io->handshaked) {
		*reason_r = "TLS handshake not finished";
		return FALSE;
	}
	if (!altpop_login_glue_tls_relay_possible(client)) {
		*reason_r = "client output is multiplexed";
		return FALSE;
	}
	/* the flush alone is not enough: Dovecot 2.4's TLS ostream reports
	   a flush done while it waits for input (want_read), with plaintext
	   still in its buffer; its used size counts that buffer, OpenSSL's
	   unread output and the TCP stream's buffer */
	if (o_stream_flush(client_output) <= 0 ||
	    o_stream_get_buffer_used_size(client_output) > 0 ||
	    o_stream_get_buffer_used_size(ssl_io->plain_output) > 0 ||
	    BIO_ctrl_pending(ssl_io->bio_ext) > 0) {
		*reason_r = "output to the client not flushed";
		return FALSE;
	}
	if (pair_output != NULL && o_stream_flush(pair_output) <= 0) {
		*reason_r = "output to the post-login process not flushed";
		return FALSE;
	}
	return TRUE;
}

/* TLS bytes read from the socket but not yet decrypted: those in the
   memory BIO OpenSSL reads, then those still in login-common's stream */
static buffer_t *altpop_tls_relay_unread_input(struct ssl_iostream *ssl_io)
{
	BIO *rbio = SSL_get_rbio(ssl_io->ssl);
	size_t pending = BIO_ctrl_pending(rbio), size;
	const unsigned char *data;
	buffer_t *buf;
	int ret;

	data = i_stream_get_data(ssl_io->plain_input, &size);
	buf = buffer_create_dynamic(default_pool, pending + size);
	if (pending > 0) {
		ret = BIO_read(rbio, buffer_append_space_unsafe(buf, pending),
			       pending);
		i_assert(ret == (int)pending);
	}
	buffer_append(buf, data, size);
	i_stream_skip(ssl_io->plain_input, size);
	return buf;
}

/* A relay for client's TLS session on its own socket BIO: OpenSSL's
   unread TLS bytes, and the plaintext the streams of both sides read but
   did not pass on yet, are moved into it. Nothing runs yet. */
static struct altpop_tls_relay *
altpop_tls_relay_new(struct client *client, struct ssl_iostream *ssl_io,
		     BIO *bio, struct istream *client_input,
		     struct istream *pair_input, struct ostream *pair_output,
		     const char *peer)
{
	struct altpop_tls_relay *relay;
	const unsigned char *data;
	size_t size;

	relay = i_new(struct altpop_tls_relay, 1);
	relay->client = client;
	relay->peer = peer;
	relay->ssl = ssl_io->ssl;
	relay->bio = BIO_get_data(bio);
	/* OpenSSL reads the TLS bytes login-common read but did not
	   decrypt first */
	relay->bio->prefix = altpop_tls_relay_unread_input(ssl_io);
	if (relay->bio->prefix->used == 0)
		buffer_free(&relay->bio->prefix);
	relay->client_fd = client->fd;
	relay->pair_input = pair_input;
	relay->pair_output = pair_output;
	i_stream_ref(pair_input);
	o_stream_ref(pair_output);
	relay->pair_fd = i_stream_get_fd(pair_input);
	relay->down_buf = i_malloc(ALTPOP_TLS_RELAY_DOWN_SIZE);
	relay->up_size = ALTPOP_TLS_RELAY_UP_SIZE;

	/* what the proxy read but did not pass on yet */
	data = i_stream_get_data(pair_input, &size);
	i_assert(size <= ALTPOP_TLS_RELAY_DOWN_SIZE);
	memcpy(relay->down_buf, data, size);
	relay->down_end = size;
	i_stream_skip(pair_input, size);
	data = i_stream_get_data(client_input, &size);
	relay->up_size = I_MAX(relay->up_size, size);
	relay->up_buf = i_malloc(relay->up_size);
	memcpy(relay->up_buf, data, size);
	relay->up_end = size;
	i_stream_skip(client_input, size);
	return relay;
}

/* OpenSSL reads and writes the client socket itself from now on */
static void
altpop_tls_relay_run(struct altpop_tls_relay *relay,
		     struct ssl_iostream *ssl_io, BIO *bio)
{
	/* takes over the BIO; frees OpenSSL's end of the memory BIO pair */
	SSL_set_bio(relay->ssl, bio, bio);
	/* Dovecot's own side of the session reads nothing any more: its
	   teardown (SSL_shutdown() and a last sync with the BIO pair, which
	   has no peer now) must not wait for input, or it logs "SSL BIO
	   buffer size too small" */
	ssl_io->want_read = FALSE;
	*altpop_tls_relay_ptr(relay->client) = relay;
	e_debug(relay->client->event, "TLS relay started (to the %s)",
		relay->peer);

	if (!altpop_tls_relay_up(relay) || !altpop_tls_relay_down(relay))
		return;
	altpop_tls_relay_update_ios(relay);
}

void altpop_tls_relay_takeover(struct client *client)
{
	struct iostream_proxy *proxy = client->iostream_fd_proxy;
	struct ssl_iostream *ssl_io = client->ssl_iostream;
	struct altpop_tls_relay *relay;
	struct istream *pair_input, *client_input;
	struct ostream *pair_output, *client_output;
	const char *reason;
	BIO *bio;

	if (!client->login_success || proxy == NULL || ssl_io == NULL)
		return;
	pair_input = iostream_proxy_get_istream(proxy, IOSTREAM_PROXY_SIDE_LEFT);
	pair_output = iostream_proxy_get_ostream(proxy, IOSTREAM_PROXY_SIDE_LEFT);
	client_input = iostream_proxy_get_istream(proxy, IOSTREAM_PROXY_SIDE_RIGHT);
	client_output = iostream_proxy_get_ostream(proxy, IOSTREAM_PROXY_SIDE_RIGHT);
	if (!altpop_tls_relay_can_take_over(client, ssl_io, client_output,
					    pair_output, &reason)) {
		e_debug(client->event, "TLS relay not used (%s): "
			"login-common relays the session", reason);
		return;
	}
	bio = altpop_tls_bio_create(client->fd);
	if (bio == NULL) {
		e_error(client->event, "TLS relay not used: %s: "
			"login-common relays the session",
			altpop_tls_relay_ssl_error("BIO_new()"));
		return;
	}
	relay = altpop_tls_relay_new(client, ssl_io, bio, client_input,
				     pair_input, pair_output,
				     "post-login process");
	/* the client reference of login-common's proxy is the relay's now */
	iostream_proxy_stop(proxy);
	iostream_proxy_unref(&client->iostream_fd_proxy);
	altpop_tls_relay_run(relay, ssl_io, bio);
}

bool altpop_tls_relay_proxy_takeover(struct client *client)
{
	struct ssl_iostream *ssl_io = client->ssl_iostream;
	struct altpop_tls_relay *relay;
	struct istream *pair_input;
	struct ostream *pair_output;
	const char *reason;
	int fds[2], proxy_fd;
	BIO *bio;

	if (ssl_io == NULL)
		return FALSE;
	if (!altpop_tls_relay_can_take_over(client, ssl_io, client->output,
					    NULL, &reason)) {
		e_debug(client->event, "TLS relay not used (%s): "
			"login-common's proxy relays the session", reason);
		return FALSE;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
		e_error(client->event, "TLS relay not used: "
			"socketpair() failed: %m");
		return FALSE;
	}
	fd_set_nonblock(fds[0], TRUE);
	fd_set_nonblock(fds[1], TRUE);
	fd_close_on_exec(fds[0], TRUE);
	fd_close_on_exec(fds[1], TRUE);
	bio = altpop_tls_bio_create(client->fd);
	if (bio == NULL) {
		e_error(client->event, "TLS relay not used: %s: "
			"login-common's proxy relays the session",
			altpop_tls_relay_ssl_error("BIO_new()"));
		i_close_fd(&fds[0]);
		i_close_fd(&fds[1]);
		return FALSE;
	}
	pair_output = o_stream_create_fd(fds[1], IO_BLOCK_SIZE);
	pair_input = i_stream_create_fd_autoclose(&fds[1], IO_BLOCK_SIZE);
	relay = altpop_tls_relay_new(client, ssl_io, bio, client->input,
				     pair_input, pair_output, "proxy");
	i_stream_unref(&pair_input);
	o_stream_unref(&pair_output);

	/* login-common's proxy relays the plaintext end of the socket pair
	   to the backend; the relay keeps the TLS streams (and a client
	   reference) until the session ends */
	relay->tls_input = client->input;
	relay->tls_output = client->output;
	proxy_fd = fds[0];
	client->input = i_stream_create_fd_autoclose(&fds[0], IO_BLOCK_SIZE);
	client->output = o_stream_create_fd(proxy_fd, IO_BLOCK_SIZE);
	o_stream_set_no_error_handling(client->output, TRUE);
	client_ref(client);
	DLLIST_PREPEND(&altpop_tls_relay_proxies, relay);
	altpop_tls_relay_run(relay, ssl_io, bio);
	return TRUE;
}

void altpop_tls_relay_deinit(void)
{
	while (altpop_tls_relay_proxies != NULL) {
		altpop_tls_relay_finish(altpop_tls_relay_proxies,
					"process shutting down");
	}
}

void altpop_tls_relay_free(struct client *client)
{
	struct altpop_tls_relay **relay = altpop_tls_relay_ptr(client);

	if (*relay != NULL)
		altpop_tls_relay_destroy(relay);
}
