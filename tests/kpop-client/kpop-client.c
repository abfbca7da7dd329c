/* SPDX-License-Identifier: LGPL-2.1-only */
/* kpop-client: a small KPOP (Kerberos V5 POP) client for altpop's tests.

   Two ways to do the Kerberos part:
     default  krb5_sendauth() from the Kerberos library, as fetchmail does
     -R       "raw": the same bytes written by hand (krb5_mk_req_extended),
              which lets the test pipeline POP3 commands behind the AP-REQ,
              drip bytes, save or replay an AP-REQ, skew the clock and send
              other version strings
   Then USER/PASS and the POP3 commands given with -c.

   Output on stdout, one event per line:
     VERDICT <n>                  the one-byte answer to the versions
     REJECTED code=<n> text=<t>   the server sent a KRB-ERROR
     ACCEPTED                     00000000
     AP-REP ok                    mutual authentication verified
     S: <line>                    a line from the server
   Exit: 0 when every POP3 command got +OK, 1 when one got -ERR or the
   connection closed, 2 when the Kerberos exchange was refused, 3 on usage
   or local errors. */

#include <krb5.h>
#include <com_err.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_COMMANDS 64
#define MAX_LINE 65536
#define MAX_FRAME (1024 * 1024)

static struct {
	const char *host, *port, *bind_addr;
	const char *service, *principal_host;
	const char *user, *pass;
	const char *commands[MAX_COMMANDS];
	unsigned int command_count;
	const char *pre_commands[MAX_COMMANDS];
	unsigned int pre_command_count;
	const char *sendauth_version, *appl_version;
	const char *save_file, *replay_file;
	long skew;
	int timeout_secs;
	unsigned int drip_msecs;
	int mutual, raw, pipeline, no_login;
} opt;

static krb5_context ctx;
static int fd = -1;
static char inbuf[MAX_LINE];
static size_t inbuf_len;
/* the last failed read timed out (instead of EOF) */
static int read_timed_out;

static void die(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fputs("kpop-client: ", stderr);
	vfprintf(stderr, fmt, args);
	fputc('\n', stderr);
	va_end(args);
	exit(3);
}

static void die_krb5(krb5_error_code code, const char *what)
{
	const char *msg = krb5_get_error_message(ctx, code);

	fprintf(stderr, "kpop-client: %s: %s\n", what, msg);
	krb5_free_error_message(ctx, msg);
	exit(3);
}

static void usage(void)
{
	fprintf(stderr,
"usage: kpop-client [options] host port\n"
"  -s service     service of the principal (pop)\n"
"  -H host        host of the principal (the host argument)\n"
"  -u user        USER name (the client principal's first component)\n"
"  -p pass        PASS argument (krb_ticket)\n"
"  -c command     POP3 command after login, repeatable (QUIT is added)\n"
"  -C command     POP3 command before USER/PASS, repeatable; \\0 and \\r\n"
"                 in it are sent as a NUL byte and a CR\n"
"  -n             no mutual authentication\n"
"  -N             no USER/PASS (only the -C commands)\n"
"  -R             raw mode (no krb5_sendauth)\n"
"  -P             raw: pipeline USER/PASS/commands behind the AP-REQ\n"
"  -D msecs       raw: write one byte at a time, msecs apart\n"
"  -V version     raw: sendauth version (KRB5_SENDAUTH_V1.0)\n"
"  -A version     raw: application version (KPOPV1.0)\n"
"  -w file        raw: save the AP-REQ\n"
"  -r file        raw: send the AP-REQ from file (replay)\n"
"  -k seconds     raw: authenticator clock offset\n"
"  -b address     source address\n"
"  -t seconds     read timeout (10)\n");
	exit(3);
}

static void out(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vprintf(fmt, args);
	va_end(args);
	putchar('\n');
	fflush(stdout);
}

/* Connect to the host's addresses in the order the resolver gives them,
   the first that accepts wins (where "localhost" resolves to ::1 first and
   the server listens on 127.0.0.1 only, ::1 is refused and 127.0.0.1 is
   taken). When none accepts, the last error is reported. */
static void net_connect(void)
{
	struct addrinfo hints, *ais, *ai;
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
	} src;
	struct timeval tv;
	int ret, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* a source address is IPv4: connect to the IPv4 addresses of the
	   host only */
	if (opt.bind_addr != NULL) {
		hints.ai_family = AF_INET;
		memset(&src, 0, sizeof(src));
		src.sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, opt.bind_addr, &src.sin.sin_addr) != 1)
			die("invalid source address %s", opt.bind_addr);
	}
	ret = getaddrinfo(opt.host, opt.port, &hints, &ais);
	if (ret != 0)
		die("getaddrinfo(%s): %s", opt.host, gai_strerror(ret));
	tv.tv_sec = opt.timeout_secs;
	tv.tv_usec = 0;
	for (ai = ais; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (opt.bind_addr != NULL &&
		    bind(fd, &src.sa, sizeof(src.sin)) < 0) {
			err = errno;
			freeaddrinfo(ais);
			die("bind(%s): %s", opt.bind_addr, strerror(err));
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		/* SO_SNDTIMEO also bounds the blocking connect() */
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ais);
	if (fd < 0)
		die("connect(%s:%s): %s", opt.host, opt.port, strerror(err));
}

static void write_all(const void *data, size_t size)
{
	const unsigned char *p = data;
	ssize_t ret;

	while (size > 0) {
		ret = write(fd, p, opt.drip_msecs > 0 ? 1 : size);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			die("write: %s", strerror(errno));
		p += ret;
		size -= ret;
		if (opt.drip_msecs > 0 && size > 0)
			usleep(opt.drip_msecs * 1000);
	}
}

/* Read exactly size bytes (through the line buffer). 0 = EOF/timeout. */
static int read_exact(void *dest, size_t size)
{
	unsigned char *d = dest;
	ssize_t ret;

	while (size > 0) {
		if (inbuf_len > 0) {
			size_t n = size < inbuf_len ? size : inbuf_len;

			memcpy(d, inbuf, n);
			memmove(inbuf, inbuf + n, inbuf_len - n);
			inbuf_len -= n;
			d += n;
			size -= n;
			continue;
		}
		ret = read(fd, inbuf, sizeof(inbuf));
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			read_timed_out = ret < 0 &&
				(errno == EAGAIN || errno == EWOULDBLOCK);
			return 0;
		}
		inbuf_len = ret;
	}
	return 1;
}

/* One line without CRLF, NULL at EOF/timeout. */
static const char *read_line(void)
{
	static char line[MAX_LINE];
	char *nl;
	ssize_t ret;

	for (;;) {
		nl = memchr(inbuf, '\n', inbuf_len);
		if (nl != NULL) {
			size_t len = nl - inbuf;

			memcpy(line, inbuf, len);
			line[len] = '\0';
			if (len > 0 && line[len-1] == '\r')
				line[len-1] = '\0';
			memmove(inbuf, nl + 1, inbuf_len - len - 1);
			inbuf_len -= len + 1;
			return line;
		}
		if (inbuf_len == sizeof(inbuf))
			die("line too long");
		ret = read(fd, inbuf + inbuf_len, sizeof(inbuf) - inbuf_len);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0) {
			read_timed_out = ret < 0 &&
				(errno == EAGAIN || errno == EWOULDBLOCK);
			return NULL;
		}
		inbuf_len += ret;
	}
}

static void append_frame(unsigned char **buf, size_t *len,
			 const void *data, size_t size)
{
	unsigned char *p;

	*buf = realloc(*buf, *len + 4 + size);
	if (*buf == NULL)
		die("out of memory");
	p = *buf + *len;
	p[0] = (size >> 24) & 0xff;
	p[1] = (size >> 16) & 0xff;
	p[2] = (size >> 8) & 0xff;
	p[3] = size & 0xff;
	memcpy(p + 4, data, size);
	*len += 4 + size;
}

/* Read one length-prefixed message. Returns 0 at EOF. */
static int read_frame(krb5_data *msg)
{
	unsigned char len[4];
	uint32_t size;

	if (!read_exact(len, 4))
		return 0;
	size = ((uint32_t)len[0] << 24) | ((uint32_t)len[1] << 16) |
		((uint32_t)len[2] << 8) | len[3];
	if (size > MAX_FRAME)
		die("server sent a %u byte frame", size);
	msg->magic = 0;
	msg->length = size;
	msg->data = malloc(size + 1);
	if (msg->data == NULL)
		die("out of memory");
	if (size > 0 && !read_exact(msg->data, size))
		return 0;
	return 1;
}

static void print_krb_error(krb5_error *err)
{
	out("REJECTED code=%d text=%.*s", (int)err->error,
	    (int)(err->text.length > 0 && err->text.data[err->text.length-1] == '\0' ?
		  err->text.length - 1 : err->text.length),
	    err->text.data == NULL ? "" : err->text.data);
}

static int is_multiline(const char *cmd)
{
	if (strncasecmp(cmd, "RETR", 4) == 0 || strncasecmp(cmd, "TOP", 3) == 0 ||
	    strcasecmp(cmd, "CAPA") == 0)
		return 1;
	if ((strncasecmp(cmd, "LIST", 4) == 0 || strncasecmp(cmd, "UIDL", 4) == 0) &&
	    strchr(cmd, ' ') == NULL)
		return 1;
	return 0;
}

/* cmd + CRLF into dest, with \0 and \r written as a NUL byte and a CR (a
   test can send the bytes a command line must not have). Returns the
   length. */
static size_t unescape_command(const char *cmd, char *dest, size_t size)
{
	size_t len = 0;

	for (; *cmd != '\0'; cmd++) {
		char c = *cmd;

		if (c == '\\' && (cmd[1] == '0' || cmd[1] == 'r'))
			c = *++cmd == '0' ? '\0' : '\r';
		if (len + 3 > size)
			die("-C command too long");
		dest[len++] = c;
	}
	dest[len++] = '\r';
	dest[len++] = '\n';
	return len;
}

/* Read and print the reply to cmd. Returns 1 for +OK, 0 for -ERR or EOF. */
static int read_reply(const char *cmd)
{
	const char *line = read_line();

	if (line == NULL) {
		out(read_timed_out ? "TIMEOUT" : "EOF");
		return 0;
	}
	out("S: %s", line);
	if (strncmp(line, "+OK", 3) != 0)
		return 0;
	if (cmd != NULL && is_multiline(cmd)) {
		while ((line = read_line()) != NULL) {
			out("S: %s", line);
			if (strcmp(line, ".") == 0)
				break;
		}
		if (line == NULL) {
			out(read_timed_out ? "TIMEOUT" : "EOF");
			return 0;
		}
	}
	return 1;
}

static krb5_principal server_principal(void)
{
	krb5_principal server;
	krb5_error_code ret;
	char *realm;

	ret = krb5_get_default_realm(ctx, &realm);
	if (ret != 0)
		die_krb5(ret, "krb5_get_default_realm");
	ret = krb5_build_principal(ctx, &server, strlen(realm), realm,
				   opt.service, opt.principal_host, NULL);
	if (ret != 0)
		die_krb5(ret, "krb5_build_principal");
	krb5_free_default_realm(ctx, realm);
	return server;
}

static const char *default_user(krb5_ccache ccache)
{
	static char name[256];
	krb5_principal client;
	krb5_error_code ret;

	ret = krb5_cc_get_principal(ctx, ccache, &client);
	if (ret != 0)
		die_krb5(ret, "krb5_cc_get_principal (run kinit)");
	if (client->length < 1)
		die("empty client principal");
	snprintf(name, sizeof(name), "%.*s", (int)client->data[0].length,
		 client->data[0].data);
	krb5_free_principal(ctx, client);
	return name;
}

static int do_sendauth(krb5_ccache ccache, krb5_principal server)
{
	krb5_auth_context auth_ctx = NULL;
	krb5_error *err = NULL;
	krb5_ap_rep_enc_part *rep = NULL;
	krb5_error_code ret;
	int status = 2;

	ret = krb5_sendauth(ctx, &auth_ctx, (krb5_pointer)&fd,
			    (char *)opt.appl_version, NULL, server,
			    opt.mutual ? AP_OPTS_MUTUAL_REQUIRED : 0,
			    NULL, NULL, ccache, &err, &rep, NULL);
	if (ret == KRB5_SENDAUTH_BADAUTHVERS) {
		out("VERDICT 1");
	} else if (ret == KRB5_SENDAUTH_BADAPPLVERS) {
		out("VERDICT 2");
	} else if (ret == KRB5_SENDAUTH_REJECTED) {
		out("VERDICT 0");
		if (err != NULL)
			print_krb_error(err);
		else
			out("REJECTED code=? text=");
	} else if (ret != 0) {
		const char *msg = krb5_get_error_message(ctx, ret);

		out("SENDAUTH-FAILED %s", msg);
		krb5_free_error_message(ctx, msg);
	} else {
		out("VERDICT 0");
		out("ACCEPTED");
		if (opt.mutual && rep != NULL)
			out("AP-REP ok");
		status = 0;
	}
	/* every path frees what krb5_sendauth() allocated */
	if (err != NULL)
		krb5_free_error(ctx, err);
	if (rep != NULL)
		krb5_free_ap_rep_enc_part(ctx, rep);
	if (auth_ctx != NULL)
		krb5_auth_con_free(ctx, auth_ctx);
	return status;
}

static void read_file(const char *path, krb5_data *data)
{
	FILE *f = fopen(path, "rb");
	long size;

	if (f == NULL)
		die("open(%s): %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0)
		die("seek(%s): %s", path, strerror(errno));
	data->magic = 0;
	data->length = size;
	data->data = malloc(size + 1);
	if (data->data == NULL ||
	    fread(data->data, 1, size, f) != (size_t)size)
		die("read(%s) failed", path);
	fclose(f);
}

static void write_file(const char *path, const krb5_data *data)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data->data, 1, data->length, f) != data->length ||
	    fclose(f) != 0)
		die("write(%s) failed", path);
}

static void append_login(unsigned char **buf, size_t *len)
{
	char line[1024];
	unsigned int i;
	int n;

	n = snprintf(line, sizeof(line), "USER %s\r\nPASS %s\r\n",
		     opt.user, opt.pass);
	*buf = realloc(*buf, *len + n);
	memcpy(*buf + *len, line, n);
	*len += n;
	for (i = 0; i < opt.command_count; i++) {
		n = snprintf(line, sizeof(line), "%s\r\n", opt.commands[i]);
		*buf = realloc(*buf, *len + n);
		memcpy(*buf + *len, line, n);
		*len += n;
	}
}

static int do_raw(krb5_ccache ccache, krb5_principal server)
{
	krb5_auth_context auth_ctx = NULL;
	krb5_creds in_creds, *creds = NULL;
	krb5_data ap_req = { 0, 0, NULL }, msg = { 0, 0, NULL };
	krb5_error_code ret;
	unsigned char *buf = NULL, verdict;
	size_t len = 0;
	int status = 2;

	/* the service ticket first: a skewed clock would upset the KDC */
	if (opt.replay_file == NULL) {
		memset(&in_creds, 0, sizeof(in_creds));
		in_creds.server = server;
		ret = krb5_cc_get_principal(ctx, ccache, &in_creds.client);
		if (ret != 0)
			die_krb5(ret, "krb5_cc_get_principal (run kinit)");
		ret = krb5_get_credentials(ctx, 0, ccache, &in_creds, &creds);
		if (ret != 0)
			die_krb5(ret, "krb5_get_credentials");
		krb5_free_principal(ctx, in_creds.client);
	}

	append_frame(&buf, &len, opt.sendauth_version,
		     strlen(opt.sendauth_version) + 1);
	append_frame(&buf, &len, opt.appl_version,
		     strlen(opt.appl_version) + 1);
	write_all(buf, len);
	len = 0;
	if (!read_exact(&verdict, 1)) {
		out(read_timed_out ? "TIMEOUT" : "EOF");
		goto done;
	}
	out("VERDICT %u", verdict);
	if (verdict != 0)
		goto done;

	ret = krb5_auth_con_init(ctx, &auth_ctx);
	if (ret != 0)
		die_krb5(ret, "krb5_auth_con_init");
	if (opt.replay_file != NULL) {
		read_file(opt.replay_file, &ap_req);
	} else {
		if (opt.skew != 0) {
			ret = krb5_set_real_time(ctx, time(NULL) + opt.skew, 0);
			if (ret != 0)
				die_krb5(ret, "krb5_set_real_time");
		}
		ret = krb5_mk_req_extended(ctx, &auth_ctx,
			opt.mutual ? AP_OPTS_MUTUAL_REQUIRED : 0,
			NULL, creds, &ap_req);
		if (ret != 0)
			die_krb5(ret, "krb5_mk_req_extended");
		if (opt.save_file != NULL)
			write_file(opt.save_file, &ap_req);
	}
	append_frame(&buf, &len, ap_req.data, ap_req.length);
	if (opt.pipeline)
		append_login(&buf, &len);
	write_all(buf, len);

	if (!read_frame(&msg)) {
		out(read_timed_out ? "TIMEOUT" : "EOF");
		goto done;
	}
	if (msg.length > 0) {
		krb5_error *err;

		ret = krb5_rd_error(ctx, &msg, &err);
		if (ret != 0)
			die_krb5(ret, "krb5_rd_error");
		print_krb_error(err);
		krb5_free_error(ctx, err);
		goto done;
	}
	out("ACCEPTED");
	if (opt.mutual) {
		krb5_ap_rep_enc_part *rep;

		free(msg.data);
		msg.data = NULL;
		if (!read_frame(&msg)) {
			out(read_timed_out ? "TIMEOUT" : "EOF");
			goto done;
		}
		if (opt.replay_file != NULL) {
			out("AP-REP unchecked");
		} else {
			ret = krb5_rd_rep(ctx, auth_ctx, &msg, &rep);
			if (ret != 0)
				die_krb5(ret, "krb5_rd_rep");
			krb5_free_ap_rep_enc_part(ctx, rep);
			out("AP-REP ok");
		}
	}
	status = 0;
done:
	/* one way out: free everything on every path */
	free(buf);
	free(msg.data);
	if (opt.replay_file != NULL)
		free(ap_req.data);
	else
		krb5_free_data_contents(ctx, &ap_req);
	if (creds != NULL)
		krb5_free_creds(ctx, creds);
	if (auth_ctx != NULL)
		krb5_auth_con_free(ctx, auth_ctx);
	return status;
}

/* After a refused login: report whether the server closes the connection
   (it should, the ticket is spent) or keeps talking. */
static int end_after_error(void)
{
	const char *line;

	while ((line = read_line()) != NULL)
		out("S: %s", line);
	out(read_timed_out ? "TIMEOUT" : "CLOSED");
	return 1;
}

/* The connection, the Kerberos exchange and the POP3 commands; the caller
   frees the Kerberos state on every outcome. */
static int session(krb5_ccache ccache, krb5_principal server)
{
	unsigned int i;
	int status;

	net_connect();
	status = opt.raw ? do_raw(ccache, server) : do_sendauth(ccache, server);
	if (status != 0) {
		/* the server must close the connection now */
		const char *line = read_line();

		if (line == NULL)
			out(read_timed_out ? "TIMEOUT" : "CLOSED");
		else
			out("S: %s", line);
		return status;
	}

	/* the greeting */
	if (!read_reply(NULL))
		return end_after_error();
	status = 0;
	for (i = 0; i < opt.pre_command_count; i++) {
		char line[1024];
		size_t len;

		len = unescape_command(opt.pre_commands[i], line, sizeof(line));
		write_all(line, len);
		if (!read_reply(opt.pre_commands[i]))
			status = 1;
	}
	if (opt.no_login) {
		if (read_line() == NULL)
			out(read_timed_out ? "TIMEOUT" : "CLOSED");
		return status;
	}
	if (!opt.pipeline) {
		char line[1024];

		snprintf(line, sizeof(line), "USER %s\r\n", opt.user);
		write_all(line, strlen(line));
		if (!read_reply("USER"))
			return end_after_error();
		snprintf(line, sizeof(line), "PASS %s\r\n", opt.pass);
		write_all(line, strlen(line));
		if (!read_reply("PASS"))
			return end_after_error();
		for (i = 0; i < opt.command_count; i++) {
			snprintf(line, sizeof(line), "%s\r\n", opt.commands[i]);
			write_all(line, strlen(line));
			if (!read_reply(opt.commands[i]))
				status = 1;
		}
	} else {
		if (!read_reply("USER") || !read_reply("PASS"))
			return end_after_error();
		for (i = 0; i < opt.command_count; i++) {
			if (!read_reply(opt.commands[i]))
				status = 1;
		}
	}
	if (read_line() == NULL)
		out(read_timed_out ? "TIMEOUT" : "CLOSED");
	return status;
}

int main(int argc, char *argv[])
{
	krb5_ccache ccache;
	krb5_principal server;
	krb5_error_code ret;
	int c, status;

	opt.service = "pop";
	opt.pass = "krb_ticket";
	opt.sendauth_version = "KRB5_SENDAUTH_V1.0";
	opt.appl_version = "KPOPV1.0";
	opt.timeout_secs = 10;
	opt.mutual = 1;
	while ((c = getopt(argc, argv, "s:H:u:p:c:C:nNRPD:V:A:w:r:k:b:t:")) != -1) {
		switch (c) {
		case 's': opt.service = optarg; break;
		case 'H': opt.principal_host = optarg; break;
		case 'u': opt.user = optarg; break;
		case 'p': opt.pass = optarg; break;
		case 'c':
			if (opt.command_count == MAX_COMMANDS)
				die("too many commands");
			opt.commands[opt.command_count++] = optarg;
			break;
		case 'C':
			if (opt.pre_command_count == MAX_COMMANDS)
				die("too many commands");
			opt.pre_commands[opt.pre_command_count++] = optarg;
			break;
		case 'n': opt.mutual = 0; break;
		case 'N': opt.no_login = 1; break;
		case 'R': opt.raw = 1; break;
		case 'P': opt.pipeline = 1; break;
		case 'D': opt.drip_msecs = atoi(optarg); break;
		case 'V': opt.sendauth_version = optarg; break;
		case 'A': opt.appl_version = optarg; break;
		case 'w': opt.save_file = optarg; break;
		case 'r': opt.replay_file = optarg; break;
		case 'k': opt.skew = atol(optarg); break;
		case 'b': opt.bind_addr = optarg; break;
		case 't': opt.timeout_secs = atoi(optarg); break;
		default: usage();
		}
	}
	if (argc - optind != 2)
		usage();
	opt.host = argv[optind];
	opt.port = argv[optind + 1];
	if (opt.principal_host == NULL)
		opt.principal_host = opt.host;
	if (!opt.raw && (opt.pipeline || opt.drip_msecs > 0 || opt.skew != 0 ||
			 opt.save_file != NULL || opt.replay_file != NULL ||
			 strcmp(opt.sendauth_version, "KRB5_SENDAUTH_V1.0") != 0))
		die("-P, -D, -k, -w, -r and -V need -R");
	if (opt.pipeline && opt.pre_command_count > 0)
		die("-C cannot be pipelined (-P)");
	if (opt.command_count == 0 ||
	    strcasecmp(opt.commands[opt.command_count-1], "QUIT") != 0) {
		if (opt.command_count == MAX_COMMANDS)
			die("too many commands");
		opt.commands[opt.command_count++] = "QUIT";
	}

	ret = krb5_init_context(&ctx);
	if (ret != 0)
		die("krb5_init_context: %s", error_message(ret));
	ret = krb5_cc_default(ctx, &ccache);
	if (ret != 0)
		die_krb5(ret, "krb5_cc_default");
	if (opt.user == NULL)
		opt.user = default_user(ccache);
	server = server_principal();

	status = session(ccache, server);
	krb5_free_principal(ctx, server);
	krb5_cc_close(ctx, ccache);
	krb5_free_context(ctx);
	return status;
}
