/* SPDX-License-Identifier: LGPL-2.1-only */
/* popbench: the POP3 load generator of altpop's benchmark (tests/bench).

   One process, one epoll loop, many sessions at once. Each session runs
   the same script: banner, USER, PASS, then the steps given with -s
   (STAT, LIST, UIDL, RETRALL, NOOP, HOLD, QUIT). RETRALL pipelines RETR 1..n
   (n from the last STAT) with up to -w commands in flight. Multi-line
   replies are not parsed line by line: the receive path only looks for
   the terminating CRLF "." CRLF with memmem(), carrying the last four bytes
   across reads, and counts bytes, so the generator costs little next to the
   server it measures.

   HOLD is a barrier: when every session has reached it, popbench prints
   "holding=<n>" on stdout and waits for a line on stdin before going on
   (the caller measures the server's processes meanwhile).

   Build: gcc -O2 -o popbench popbench.c   (add -DHAVE_KRB5 ... -lkrb5 for -K,
   -DHAVE_OPENSSL ... -lssl -lcrypto for -T: POP3 over TLS, as on pop3s)

   Modes:
     popbench [options]              POP3 sessions (see usage())
     popbench -R FILELIST            raw ceiling: a forked child sends the
                                     files named in FILELIST over a loopback
                                     socket with read()+send(); the parent
                                     receives them through the same receive
                                     path as POP3 replies.

   Results are printed as key=value lines on stdout. Exit status: 0 when
   every session completed, 1 when some failed, 2 on usage/setup errors. */

#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <time.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#ifdef HAVE_KRB5
#  include <krb5.h>
#endif
#ifdef HAVE_OPENSSL
#  include <openssl/ssl.h>
#  include <openssl/err.h>
#endif

#ifndef IP_BIND_ADDRESS_NO_PORT
#  define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define RECV_BUF_SIZE (1024 * 1024)
#define LINE_MAX_LEN 1024
#define OUT_BUF_SIZE 8192
#define MAX_STEPS 32
#define MAX_ERRORS_SHOWN 5

enum step_kind {
	STEP_BANNER, STEP_KPOP, STEP_USER, STEP_PASS, STEP_STAT, STEP_LIST,
	STEP_UIDL, STEP_RETRALL, STEP_NOOP, STEP_HOLD, STEP_QUIT,
};

static const char *const step_names[] = {
	"banner", "kpop", "user", "pass", "stat", "list",
	"uidl", "retrall", "noop", "hold", "quit",
};

struct user {
	char *name, *pass;
};

struct conn {
	int fd;
	int slot;
	long session;		/* index of the session in this run */
	int user;
	int step;		/* index into script[] */
	int multi;		/* the reply being read is multi-line */
	int in_body;		/* reading a multi-line body */
	int held;
	int dead;		/* closed; freed after the current event batch */
	struct conn *next_dead;
	char carry[8];
	int carry_len;
	char line[LINE_MAX_LEN];
	int line_len;
	char out[OUT_BUF_SIZE];
	int out_len, out_off;
#ifdef HAVE_OPENSSL
	SSL *ssl;		/* -T: TLS from the first byte (pop3s) */
	int handshaking;
#endif
	/* RETRALL */
	unsigned int msg_count, retr_next, retr_outstanding, retr_done;
	double t0;
#ifdef HAVE_KRB5
	/* KPOP sendauth phase: bytes of server replies still expected */
	int kpop_phase;
	unsigned char kbuf[16];
	int kbuf_len;
	uint32_t kpop_len;	/* length of a KRB-ERROR / AP-REP being skipped */
	int kpop_mutual;
	unsigned char *ap_req;	/* sent once the server accepted the version */
	size_t ap_req_len;
#endif
};

/* ---- options ---- */
static const char *opt_host = "127.0.0.1";
static int opt_port;
static int opt_concurrency = 1;
static long opt_sessions = -1;
static int opt_window = 8;
static double opt_timeout = 600;
static int opt_src_count = 0;	/* bind source addresses 127.0.1.1.. */
static int opt_verbose;
static int opt_kpop;
static int opt_quickack;	/* diagnosis: ACK at once (no delayed ACKs) */
static int opt_tls;		/* -T: TLS from the first byte (pop3s) */
static int opt_in_use_ok;	/* -I: "-ERR [IN-USE]" at PASS ends a session */
static long sessions_in_use;
static const char *opt_kpop_service = "pop";
static const char *opt_kpop_host = "localhost";

static int script[MAX_STEPS];
static int script_len;
static struct user *users;
static int user_count;

/* ---- state ---- */
static int epfd;
static unsigned char *recv_buf;
static struct conn **slots;
static long sessions_started, sessions_ok, sessions_failed;
static int holding, hold_released, stdin_watched;
static double hold_time_total, hold_started;
static uint64_t bytes_in, bytes_out;
static uint64_t retr_count, retr_octets, retr_body;
static double retr_first_sent = -1, retr_last_done = -1;
static unsigned int errors_shown;
static double *step_first, *step_done;	/* [session][step], from t0 */
static double run_start;
static struct conn *dead_list;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
	fprintf(stderr, "popbench: %s: %s\n", msg, strerror(errno));
	exit(2);
}

static void session_error(struct conn *c, const char *fmt, const char *arg)
{
	if (errors_shown++ < MAX_ERRORS_SHOWN || opt_verbose) {
		fprintf(stderr, "popbench: session %ld (user %s) step %s: ",
			c->session, users[c->user].name,
			step_names[script[c->step]]);
		fprintf(stderr, fmt, arg);
		fputc('\n', stderr);
	}
}

/* ---- receive path: find CRLF "." CRLF ---- */

static const char terminator[] = "\r\n.\r\n";

/* Looks for the terminator in data, with c->carry holding the last bytes
   before it. Returns the number of bytes of data up to and including the
   terminator, or 0 when the body goes on (carry updated). */
static size_t body_scan(char carry[8], int *carry_len,
			const unsigned char *data, size_t size)
{
	const unsigned char *m;

	if (*carry_len > 0) {
		unsigned char tmp[8];
		size_t head = size < 4 ? size : 4;

		memcpy(tmp, carry, *carry_len);
		memcpy(tmp + *carry_len, data, head);
		m = memmem(tmp, *carry_len + head, terminator, 5);
		if (m != NULL)
			return (m - tmp) + 5 - *carry_len;
	}
	m = memmem(data, size, terminator, 5);
	if (m != NULL)
		return (m - data) + 5;
	if (size >= 4) {
		memcpy(carry, data + size - 4, 4);
		*carry_len = 4;
	} else {
		char tmp[12];
		int len = *carry_len + (int)size;

		memcpy(tmp, carry, *carry_len);
		memcpy(tmp + *carry_len, data, size);
		if (len > 4) {
			memmove(tmp, tmp + len - 4, 4);
			len = 4;
		}
		memcpy(carry, tmp, len);
		*carry_len = len;
	}
	return 0;
}

/* ---- transport: plain TCP or TLS ---- */

#ifdef HAVE_OPENSSL
static SSL_CTX *ssl_ctx;

/* SSL_read()/SSL_write() result as recv()/send() would give it: -1 with
   errno EAGAIN when the socket has to become readable/writable first. */
static ssize_t ssl_result(struct conn *c, int ret)
{
	if (ret > 0)
		return ret;
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		errno = EPROTO;
		return -1;
	}
}
#endif

static ssize_t conn_recv(struct conn *c, void *buf, size_t size)
{
#ifdef HAVE_OPENSSL
	if (c->ssl != NULL)
		return ssl_result(c, SSL_read(c->ssl, buf,
					      size > INT32_MAX ? INT32_MAX :
					      (int)size));
#endif
	return recv(c->fd, buf, size, 0);
}

static ssize_t conn_send_bytes(struct conn *c, const void *buf, size_t size)
{
#ifdef HAVE_OPENSSL
	if (c->ssl != NULL)
		return ssl_result(c, SSL_write(c->ssl, buf, (int)size));
#endif
	return send(c->fd, buf, size, MSG_NOSIGNAL);
}

/* ---- sending ---- */

static void conn_flush(struct conn *c)
{
#ifdef HAVE_OPENSSL
	if (c->handshaking)
		return;
#endif
	while (c->out_off < c->out_len) {
		ssize_t ret = conn_send_bytes(c, c->out + c->out_off,
					      c->out_len - c->out_off);
		if (ret < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return; /* the read side will see the error */
		}
		bytes_out += ret;
		c->out_off += ret;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	struct epoll_event ev = {
		.events = EPOLLIN | (c->out_len > 0 ? EPOLLOUT : 0),
		.data.ptr = c,
	};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_send(struct conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void conn_send(struct conn *c, const char *fmt, ...)
{
	va_list args;
	int len;

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	va_start(args, fmt);
	len = vsnprintf(c->out + c->out_len, OUT_BUF_SIZE - c->out_len,
			fmt, args);
	va_end(args);
	if (len < 0 || len >= OUT_BUF_SIZE - c->out_len) {
		fprintf(stderr, "popbench: output buffer overflow\n");
		exit(2);
	}
	c->out_len += len;
	conn_flush(c);
}

static void conn_send_raw(struct conn *c, const void *data, size_t size)
{
	if (size > (size_t)(OUT_BUF_SIZE - c->out_len)) {
		fprintf(stderr, "popbench: output buffer overflow\n");
		exit(2);
	}
	memcpy(c->out + c->out_len, data, size);
	c->out_len += size;
	conn_flush(c);
}

/* ---- sessions ---- */

static void slot_start(int slot);
static void step_start(struct conn *c);
static void hold_check(void);

static void record(double *arr, struct conn *c)
{
	size_t i = (size_t)c->session * script_len + c->step;

	if (arr[i] < 0)
		arr[i] = now() - c->t0;
}

/* Closes the session; the slot gets its next session from the main loop
   (conns_reap), so no caller ever sees a freed or reused conn. */
static void conn_close(struct conn *c, int ok)
{
	if (c->dead)
		return;
	c->dead = 1;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
#ifdef HAVE_OPENSSL
	if (c->ssl != NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
#endif
	close(c->fd);
	if (ok)
		sessions_ok++;
	else
		sessions_failed++;
	c->next_dead = dead_list;
	dead_list = c;
}

static void conns_reap(void)
{
	while (dead_list != NULL) {
		struct conn *c = dead_list;
		int slot = c->slot;

		dead_list = c->next_dead;
		slots[slot] = NULL;
#ifdef HAVE_KRB5
		free(c->ap_req);
#endif
		free(c);
		slot_start(slot);
	}
	hold_check();
}

static void conn_fail(struct conn *c, const char *why, const char *arg)
{
	session_error(c, why, arg);
	conn_close(c, 0);
}

static void retr_send_more(struct conn *c)
{
	char buf[OUT_BUF_SIZE];
	int len = 0;

	while (c->retr_next <= c->msg_count &&
	       c->retr_outstanding < (unsigned int)opt_window &&
	       len < OUT_BUF_SIZE - 32 - c->out_len) {
		len += snprintf(buf + len, sizeof(buf) - len, "RETR %u\r\n",
				c->retr_next);
		c->retr_next++;
		c->retr_outstanding++;
	}
	if (len > 0) {
		if (retr_first_sent < 0)
			retr_first_sent = now();
		conn_send_raw(c, buf, len);
	}
}

static void hold_check(void)
{
	long active = 0;

	for (int i = 0; i < opt_concurrency; i++) {
		if (slots[i] != NULL && !slots[i]->dead)
			active++;
	}
	if (holding > 0 && !stdin_watched && holding == active && !hold_released &&
	    sessions_started >= opt_sessions) {
		printf("holding=%d\n", holding);
		fflush(stdout);
		hold_started = now();
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0)
			die("epoll_ctl(stdin)");
		stdin_watched = 1;
	}
}

static void hold_release(void)
{
	char buf[256];

	(void)read(0, buf, sizeof(buf));
	epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
	stdin_watched = 0;
	hold_released = 1;
	hold_time_total += now() - hold_started;
	for (int i = 0; i < opt_concurrency; i++) {
		struct conn *c = slots[i];

		if (c != NULL && c->held && !c->dead) {
			c->held = 0;
			record(step_done, c);
			c->step++;
			step_start(c);
		}
	}
	holding = 0;
}

static void step_next(struct conn *c)
{
	record(step_done, c);
	c->step++;
	step_start(c);
}

static void step_start(struct conn *c)
{
	const struct user *u = &users[c->user];

	if (c->step >= script_len) {
		conn_close(c, 1);
		return;
	}
	c->multi = 0;
	switch (script[c->step]) {
	case STEP_BANNER:
		/* nothing to send: wait for the greeting */
		break;
#ifdef HAVE_KRB5
	case STEP_KPOP:
		break;
#endif
	case STEP_USER:
		conn_send(c, "USER %s\r\n", u->name);
		break;
	case STEP_PASS:
		conn_send(c, "PASS %s\r\n", u->pass);
		break;
	case STEP_STAT:
		conn_send(c, "STAT\r\n");
		break;
	case STEP_LIST:
		c->multi = 1;
		conn_send(c, "LIST\r\n");
		break;
	case STEP_UIDL:
		c->multi = 1;
		conn_send(c, "UIDL\r\n");
		break;
	case STEP_NOOP:
		conn_send(c, "NOOP\r\n");
		break;
	case STEP_RETRALL:
		c->multi = 1;
		c->retr_next = 1;
		c->retr_outstanding = 0;
		c->retr_done = 0;
		if (c->msg_count == 0) {
			step_next(c);
			return;
		}
		retr_send_more(c);
		break;
	case STEP_HOLD:
		if (hold_released) {
			step_next(c);
			return;
		}
		c->held = 1;
		holding++;
		hold_check();
		break;
	case STEP_QUIT:
		conn_send(c, "QUIT\r\n");
		break;
	}
}

/* A complete status line (CRLF stripped) of the current step. */
static int handle_line(struct conn *c, char *line)
{
	int ok = strncmp(line, "+OK", 3) == 0;
	int kind = script[c->step];

	record(step_first, c);
	if (!ok && opt_in_use_ok && kind == STEP_PASS &&
	    strncmp(line, "-ERR [IN-USE]", 13) == 0) {
		/* answered: the maildrop is locked by another session */
		sessions_in_use++;
		record(step_done, c);
		conn_close(c, 1);
		return -1;
	}
	if (!ok) {
		conn_fail(c, "%s", line);
		return -1;
	}
	switch (kind) {
	case STEP_STAT:
		if (sscanf(line, "+OK %u", &c->msg_count) != 1) {
			conn_fail(c, "bad STAT reply: %s", line);
			return -1;
		}
		break;
	case STEP_RETRALL: {
		unsigned long long octets;

		if (sscanf(line, "+OK %llu", &octets) == 1)
			retr_octets += octets;
		break;
	}
	case STEP_QUIT:
		record(step_done, c);
		conn_close(c, 1);
		return -1;
	}
	if (c->multi) {
		c->in_body = 1;
		memcpy(c->carry, "\r\n", 2);
		c->carry_len = 2;
		return 0;
	}
	step_next(c);
	return c->dead ? -1 : 0;
}

static void body_done(struct conn *c)
{
	c->in_body = 0;
	if (script[c->step] == STEP_RETRALL) {
		retr_count++;
		c->retr_done++;
		c->retr_outstanding--;
		if (c->retr_done == c->msg_count) {
			retr_last_done = now();
			step_next(c);
		} else {
			retr_send_more(c);
		}
		return;
	}
	step_next(c);
}

#ifdef HAVE_KRB5
static krb5_context kctx;
static krb5_ccache kccache;

/* Client side of the sendauth exchange, in the order krb5_sendauth()
   uses: the two version strings, wait for the verdict byte, then the
   length-prefixed AP-REQ (mutual authentication, as fetchmail asks). */
static int kpop_start(struct conn *c)
{
	static const unsigned char hello[] =
		"\x00\x00\x00\x13" "KRB5_SENDAUTH_V1.0\0"
		"\x00\x00\x00\x09" "KPOPV1.0\0";
	krb5_auth_context auth = NULL;
	krb5_data ap_req = { 0 };
	krb5_error_code err;

	err = krb5_mk_req(kctx, &auth, AP_OPTS_MUTUAL_REQUIRED,
			  (char *)opt_kpop_service, (char *)opt_kpop_host,
			  NULL, kccache, &ap_req);
	if (err != 0) {
		fprintf(stderr, "popbench: krb5_mk_req: %s\n",
			krb5_get_error_message(kctx, err));
		exit(2);
	}
	c->ap_req_len = 4 + ap_req.length;
	c->ap_req = malloc(c->ap_req_len);
	if (c->ap_req == NULL)
		die("malloc");
	c->ap_req[0] = ap_req.length >> 24; c->ap_req[1] = ap_req.length >> 16;
	c->ap_req[2] = ap_req.length >> 8; c->ap_req[3] = ap_req.length;
	memcpy(c->ap_req + 4, ap_req.data, ap_req.length);
	krb5_free_data_contents(kctx, &ap_req);
	krb5_auth_con_free(kctx, auth);
	conn_send_raw(c, hello, sizeof(hello) - 1);
	c->kpop_phase = 0;
	c->kbuf_len = 0;
	c->kpop_mutual = 1;
	return 0;
}

/* Consumes the binary sendauth replies; returns bytes used, -1 on error. */
static ssize_t kpop_input(struct conn *c, const unsigned char *p, size_t n)
{
	size_t used = 0;

	while (used < n) {
		switch (c->kpop_phase) {
		case 0: /* 1 byte: sendauth version accepted */
			if (p[used++] != 0)
				return -1;
			c->kpop_phase = 1;
			c->kbuf_len = 0;
			conn_send_raw(c, c->ap_req, c->ap_req_len);
			free(c->ap_req);
			c->ap_req = NULL;
			break;
		case 1: /* 4 bytes: 0 = accepted, else KRB-ERROR length */
		case 3: /* 4 bytes: AP-REP length */
			c->kbuf[c->kbuf_len++] = p[used++];
			if (c->kbuf_len < 4)
				break;
			c->kpop_len = ((uint32_t)c->kbuf[0] << 24) |
				(c->kbuf[1] << 16) | (c->kbuf[2] << 8) |
				c->kbuf[3];
			c->kbuf_len = 0;
			if (c->kpop_phase == 1) {
				if (c->kpop_len != 0)
					return -1;
				c->kpop_phase = c->kpop_mutual ? 3 : 5;
			} else {
				c->kpop_phase = 4;
			}
			break;
		case 4: { /* skip the AP-REP */
			size_t take = n - used < c->kpop_len ?
				n - used : c->kpop_len;
			used += take;
			c->kpop_len -= take;
			if (c->kpop_len == 0)
				c->kpop_phase = 5;
			break;
		}
		default:
			return used;
		}
		if (c->kpop_phase == 5)
			return used;
	}
	return used;
}
#endif

#ifdef HAVE_OPENSSL
/* Drives the TLS handshake; returns 1 when done, 0 when it goes on, -1
   when the session failed. */
static int conn_handshake(struct conn *c)
{
	int ret = SSL_connect(c->ssl);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	if (ret == 1) {
		c->handshaking = 0;
		conn_flush(c);
		return 1;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		break;
	case SSL_ERROR_WANT_WRITE:
		ev.events |= EPOLLOUT;
		break;
	default: {
		char err[256];

		ERR_error_string_n(ERR_get_error(), err, sizeof(err));
		conn_fail(c, "TLS handshake failed: %s", err);
		return -1;
	}
	}
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	return 0;
}
#endif

static void conn_input(struct conn *c)
{
#ifdef HAVE_OPENSSL
	if (c->handshaking && conn_handshake(c) <= 0)
		return;
#endif
	for (;;) {
		ssize_t ret;

		if (opt_quickack) {
			int one = 1;
			setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one,
				   sizeof(one));
		}
		ret = conn_recv(c, recv_buf, RECV_BUF_SIZE);

		if (ret == 0) {
			conn_fail(c, "%s", "connection closed by server");
			return;
		}
		if (ret < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_fail(c, "recv: %s", strerror(errno));
			return;
		}
		bytes_in += ret;

		const unsigned char *p = recv_buf;
		size_t n = ret;

#ifdef HAVE_KRB5
		if (script[c->step] == STEP_KPOP) {
			ssize_t used = kpop_input(c, p, n);

			if (used < 0) {
				conn_fail(c, "%s", "KPOP sendauth refused");
				return;
			}
			p += used;
			n -= used;
			if (c->kpop_phase == 5) {
				record(step_first, c);
				step_next(c);
				if (c->dead)
					return;
			}
		}
#endif
		while (n > 0) {
			if (c->in_body) {
				size_t used = body_scan(c->carry, &c->carry_len,
							p, n);
				if (used == 0) {
					if (script[c->step] == STEP_RETRALL)
						retr_body += n;
					break;
				}
				if (script[c->step] == STEP_RETRALL)
					retr_body += used;
				p += used;
				n -= used;
				body_done(c);
			} else {
				const unsigned char *lf = memchr(p, '\n', n);
				size_t take = lf == NULL ? n : (size_t)(lf - p) + 1;

				if (c->line_len + take >= LINE_MAX_LEN) {
					conn_fail(c, "%s", "reply line too long");
					return;
				}
				memcpy(c->line + c->line_len, p, take);
				c->line_len += take;
				p += take;
				n -= take;
				if (lf == NULL)
					break;
				c->line[c->line_len - 1] = '\0';
				if (c->line_len >= 2 &&
				    c->line[c->line_len - 2] == '\r')
					c->line[c->line_len - 2] = '\0';
				c->line_len = 0;
				if (handle_line(c, c->line) < 0)
					return;
			}
			if (c->dead)
				return;
		}
	}
}

static void slot_start(int slot)
{
	static unsigned int src_next;
	struct sockaddr_in sin;
	struct conn *c;
	int fd, one = 1;

	if (sessions_started >= opt_sessions) {
		hold_check();
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		die("calloc");
	c->session = sessions_started++;
	c->slot = slot;
	/* slot s uses users s, s+C, s+2C... in turn: no two sessions at once
	   and no two sessions in a row share a maildrop (session locks) */
	{
		int per_slot = user_count / opt_concurrency;
		long iter = c->session / opt_concurrency;

		if (per_slot < 1)
			per_slot = 1;
		c->user = (slot + opt_concurrency * (int)(iter % per_slot)) %
			user_count;
	}
	c->t0 = now();
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (opt_src_count > 0) {
		unsigned int i = src_next++ % opt_src_count;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(0x7f000100 + 1 + i);
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			die("bind");
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(opt_port);
	if (inet_pton(AF_INET, opt_host, &sin.sin_addr) != 1) {
		fprintf(stderr, "popbench: bad host %s\n", opt_host);
		exit(2);
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS)
		die("connect");
	c->fd = fd;
	slots[slot] = c;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
#ifdef HAVE_OPENSSL
	if (opt_tls) {
		c->ssl = SSL_new(ssl_ctx);
		if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
			fprintf(stderr, "popbench: SSL_new failed\n");
			exit(2);
		}
		c->handshaking = 1;
		/* the first step waits for the greeting; nothing is sent
		   before the handshake is done (conn_flush) */
		if (conn_handshake(c) < 0)
			return;
	}
#endif
#ifdef HAVE_KRB5
	if (script[0] == STEP_KPOP)
		kpop_start(c);
#endif
	step_start(c);
}

/* ---- raw ceiling ---- */

static int raw_mode(const char *filelist)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int lfd, fd, one = 1;
	pid_t pid;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) < 0)
		die("raw listen");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		/* sender: read() each file, send() it, 64 KiB at a time */
		static char buf[64 * 1024];
		char path[4096];
		FILE *list = fopen(filelist, "r");
		int cfd = accept(lfd, NULL, NULL);

		if (list == NULL || cfd < 0)
			_exit(3);
		while (fgets(path, sizeof(path), list) != NULL) {
			path[strcspn(path, "\n")] = '\0';
			int ffd = open(path, O_RDONLY);
			ssize_t r;

			if (ffd < 0)
				_exit(4);
			while ((r = read(ffd, buf, sizeof(buf))) > 0) {
				for (ssize_t off = 0; off < r; ) {
					ssize_t w = send(cfd, buf + off,
							 r - off, 0);
					if (w < 0)
						_exit(5);
					off += w;
				}
			}
			close(ffd);
		}
		close(cfd);
		_exit(0);
	}
	close(0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	double t0 = now();
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("raw connect");
	char carry[8] = "\r\n";
	int carry_len = 2;
	uint64_t total = 0, matches = 0;
	for (;;) {
		ssize_t r = recv(fd, recv_buf, RECV_BUF_SIZE, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		total += r;
		/* the same scan the POP3 receive path does */
		const unsigned char *p = recv_buf;
		size_t n = r;
		while (n > 0) {
			size_t used = body_scan(carry, &carry_len, p, n);
			if (used == 0)
				break;
			matches++;
			p += used;
			n -= used;
			memcpy(carry, "\r\n", 2);
			carry_len = 2;
		}
	}
	double elapsed = now() - t0;
	int status;
	waitpid(pid, &status, 0);
	printf("raw_bytes=%llu\nraw_elapsed=%.6f\nraw_mbps=%.3f\n"
	       "raw_terminators=%llu\n",
	       (unsigned long long)total, elapsed,
	       total / elapsed / 1e6, (unsigned long long)matches);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/* ---- main ---- */

static int parse_script(const char *s)
{
	char *copy = strdup(s), *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		int found = -1;

		for (int i = STEP_STAT; i <= STEP_QUIT; i++) {
			if (strcasecmp(tok, step_names[i]) == 0)
				found = i;
		}
		if (found < 0 || script_len >= MAX_STEPS) {
			fprintf(stderr, "popbench: bad step '%s'\n", tok);
			return -1;
		}
		script[script_len++] = found;
	}
	free(copy);
	return 0;
}

static void load_users(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int alloc = 0;

	if (f == NULL)
		die(path);
	while (fgets(line, sizeof(line), f) != NULL) {
		char *name = strtok(line, " \t\r\n");
		char *pass = strtok(NULL, " \t\r\n");

		if (name == NULL || pass == NULL)
			continue;
		if (user_count == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			users = realloc(users, alloc * sizeof(*users));
		}
		users[user_count].name = strdup(name);
		users[user_count].pass = strdup(pass);
		user_count++;
	}
	fclose(f);
	if (user_count == 0) {
		fprintf(stderr, "popbench: no users in %s\n", path);
		exit(2);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *arr, int step)
{
	double *v = malloc(sizeof(double) * (opt_sessions + 1));
	long n = 0;
	double m;

	for (long s = 0; s < opt_sessions; s++) {
		double x = arr[(size_t)s * script_len + step];
		if (x >= 0)
			v[n++] = x;
	}
	if (n == 0) {
		free(v);
		return -1;
	}
	qsort(v, n, sizeof(double), cmp_double);
	m = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	free(v);
	return m;
}

static void usage(void)
{
	fprintf(stderr,
"usage: popbench -p PORT -u USERFILE [options]\n"
"       popbench -R FILELIST\n"
"  -h HOST     server address (127.0.0.1)\n"
"  -p PORT     server port\n"
"  -u FILE     users, one \"name password\" per line; session k of slot s\n"
"              uses user s + C*(k mod (users/C))\n"
"  -c N        concurrent sessions (1)\n"
"  -n N        sessions in total (default: -c)\n"
"  -s STEPS    after login, comma separated: stat list uidl retrall noop\n"
"              hold quit (default stat,quit)\n"
"  -w N        RETR commands in flight for retrall (8)\n"
"  -b N        bind source addresses 127.0.1.1 .. 127.0.1.N in turn\n"
"  -t SECS     give up after this long (600)\n"
"  -K          KPOP: Kerberos V5 sendauth before the banner (needs a\n"
"              build with -DHAVE_KRB5 and a ticket cache)\n"
"  -S SERVICE  KPOP service name (pop); -H HOST: its host (localhost)\n"
"  -Q          diagnosis: TCP_QUICKACK before every read (shows delays\n"
"              caused by Nagle + delayed ACKs on the server's side)\n"
"  -T          TLS from the first byte (pop3s; needs a build with\n"
"              -DHAVE_OPENSSL -lssl -lcrypto); certificates not checked\n"
"  -I          a \"-ERR [IN-USE]\" reply to PASS is an answered session\n"
"              (counted as sessions_in_use), not a failure\n"
"  -v          show every failed session\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *userfile = NULL, *steps = "stat,quit", *rawlist = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "h:p:u:c:n:s:w:b:t:KS:H:R:QTIv")) != -1) {
		switch (opt) {
		case 'h': opt_host = optarg; break;
		case 'p': opt_port = atoi(optarg); break;
		case 'u': userfile = optarg; break;
		case 'c': opt_concurrency = atoi(optarg); break;
		case 'n': opt_sessions = atol(optarg); break;
		case 's': steps = optarg; break;
		case 'w': opt_window = atoi(optarg); break;
		case 'b': opt_src_count = atoi(optarg); break;
		case 't': opt_timeout = atof(optarg); break;
		case 'K': opt_kpop = 1; break;
		case 'S': opt_kpop_service = optarg; break;
		case 'H': opt_kpop_host = optarg; break;
		case 'R': rawlist = optarg; break;
		case 'Q': opt_quickack = 1; break;
		case 'T': opt_tls = 1; break;
		case 'I': opt_in_use_ok = 1; break;
		case 'v': opt_verbose = 1; break;
		default: usage();
		}
	}
	signal(SIGPIPE, SIG_IGN);
	recv_buf = malloc(RECV_BUF_SIZE);
	if (recv_buf == NULL)
		die("malloc");
	if (rawlist != NULL)
		return raw_mode(rawlist);
	if (opt_port <= 0 || userfile == NULL || opt_concurrency < 1 ||
	    opt_window < 1 || opt_src_count > 250)
		usage();
	if (opt_sessions < 0)
		opt_sessions = opt_concurrency;
	if (opt_tls) {
#ifdef HAVE_OPENSSL
		ssl_ctx = SSL_CTX_new(TLS_client_method());
		if (ssl_ctx == NULL) {
			fprintf(stderr, "popbench: SSL_CTX_new failed\n");
			exit(2);
		}
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#else
		fprintf(stderr, "popbench: built without -DHAVE_OPENSSL\n");
		exit(2);
#endif
	}
	if (opt_kpop) {
#ifdef HAVE_KRB5
		krb5_error_code err = krb5_init_context(&kctx);
		if (err == 0)
			err = krb5_cc_default(kctx, &kccache);
		if (err != 0) {
			fprintf(stderr, "popbench: krb5 init failed (%d)\n",
				err);
			exit(2);
		}
		script[script_len++] = STEP_KPOP;
#else
		fprintf(stderr, "popbench: built without -DHAVE_KRB5\n");
		exit(2);
#endif
	}
	script[script_len++] = STEP_BANNER;
	script[script_len++] = STEP_USER;
	script[script_len++] = STEP_PASS;
	if (parse_script(steps) < 0)
		usage();
	load_users(userfile);

	step_first = malloc(sizeof(double) * script_len * (opt_sessions + 1));
	step_done = malloc(sizeof(double) * script_len * (opt_sessions + 1));
	for (size_t i = 0; i < (size_t)script_len * (opt_sessions + 1); i++)
		step_first[i] = step_done[i] = -1;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	slots = calloc(opt_concurrency, sizeof(*slots));
	run_start = now();
	for (int i = 0; i < opt_concurrency; i++)
		slot_start(i);
	conns_reap();

	struct epoll_event events[256];
	int timed_out = 0;
	for (;;) {
		int active = 0;

		for (int i = 0; i < opt_concurrency && !active; i++)
			active = slots[i] != NULL && !slots[i]->dead;
		if (!active && sessions_started >= opt_sessions)
			break;
		if (!stdin_watched &&
		    now() - run_start - hold_time_total > opt_timeout) {
			timed_out = 1;
			break;
		}
		int n = epoll_wait(epfd, events, 256, 1000);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			struct conn *c = events[i].data.ptr;

			if (c == NULL) {
				hold_release();
				continue;
			}
			/* closed by an earlier event of this batch? */
			if (c->dead)
				continue;
#ifdef HAVE_OPENSSL
			if (c->handshaking) {
				conn_input(c);
				continue;
			}
#endif
			if (events[i].events & EPOLLOUT)
				conn_flush(c);
			if (!c->dead &&
			    (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				conn_input(c);
		}
		conns_reap();
	}
	double elapsed = now() - run_start - hold_time_total;

	if (timed_out) {
		long active = 0;
		for (int i = 0; i < opt_concurrency; i++)
			active += slots[i] != NULL;
		fprintf(stderr, "popbench: timed out after %.0fs with %ld "
			"sessions still running\n", opt_timeout, active);
		sessions_failed += active;
	}

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("sessions_ok=%ld\nsessions_failed=%ld\nelapsed=%.6f\n"
	       "sessions_per_sec=%.3f\nbytes_in=%llu\nbytes_out=%llu\n"
	       "sessions_in_use=%ld\n",
	       sessions_ok, sessions_failed, elapsed,
	       sessions_ok / elapsed, (unsigned long long)bytes_in,
	       (unsigned long long)bytes_out, sessions_in_use);
	printf("cpu_user=%.6f\ncpu_sys=%.6f\n",
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	if (retr_count > 0) {
		double t = retr_last_done - retr_first_sent;
		printf("retr_count=%llu\nretr_octets=%llu\nretr_body=%llu\n"
		       "retr_elapsed=%.6f\nretr_mbps=%.3f\n",
		       (unsigned long long)retr_count,
		       (unsigned long long)retr_octets,
		       (unsigned long long)retr_body, t,
		       retr_body / t / 1e6);
	}
	for (int s = 0; s < script_len; s++) {
		printf("step.%d.%s.first=%.6f\n", s, step_names[script[s]],
		       median_of(step_first, s));
		printf("step.%d.%s.done=%.6f\n", s, step_names[script[s]],
		       median_of(step_done, s));
	}
	return sessions_failed > 0 || timed_out ? 1 : 0;
}
