/* SPDX-License-Identifier: LGPL-2.1-only */
/* altpop: the post-login POP3 process. Takes over clients from
   altpop-login (or runs one session on stdin/stdout when started by hand
   with -u user for debugging). */

#include "lib.h"
#include "ioloop.h"
#include "buffer.h"
#include "base64.h"
#include "path-util.h"
#include "str.h"
#include "strnum.h"
#include "master-service.h"
#include "master-interface.h"
#include "mail-error.h"
#include "mail-user.h"
#include "mail-storage-service.h"
#include "login-handoff.h"
#include "uidl-import.h"
#include "altpop-client.h"
#include "mail-glue.h"

#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>

#define ALTPOP_IS_STANDALONE() (getenv(MASTER_IS_PARENT_ENV) == NULL)
#define ALTPOP_LOOKUP_ERROR_REPLY \
	"-ERR [SYS/TEMP] "MAIL_ERRSTR_CRITICAL_MSG"\r\n"

static void altpop_die(void)
{
	/* POP3 sessions are short: let them finish. */
}

static void altpop_write_raw(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) < 0) {
		/* the client is gone; nothing more to tell it */
	}
}

static int
altpop_client_create_from_input(const struct mail_storage_service_input *input,
				int fd_in, int fd_out,
				struct altpop_client **client_r,
				const char **error_r)
{
	struct mail_user *mail_user;
	const struct altpop_settings *set;

	if (altpop_mail_glue_user_lookup(input, &mail_user, &set,
					 error_r) < 0) {
		altpop_write_raw(fd_out, ALTPOP_LOOKUP_ERROR_REPLY);
		return -1;
	}
	*client_r = altpop_client_create(fd_in, fd_out, mail_user, set);
	return 0;
}

static void altpop_client_start(struct altpop_client *client,
				const unsigned char *input, size_t input_size)
{
	const char *error;

	/* RFC 2449 LOGIN-DELAY: refused before the session starts */
	if (altpop_login_delay_check(client, &error) <= 0) {
		altpop_client_destroy(client, error);
		return;
	}
	/* RFC 1939: the maildrop lock is taken before the +OK that enters
	   the TRANSACTION state. */
	if (altpop_mailbox_open(client, &error) < 0) {
		e_error(client->event, "%s", error);
		altpop_client_destroy(client, error);
		return;
	}
	if (!ALTPOP_IS_STANDALONE())
		altpop_client_send_msg(client, "+OK", POP3_MSG_LOGGED_IN);
	client->state = ALTPOP_STATE_TRANSACTION;
	altpop_client_add_input(client, input, input_size);
}

/* altpop -u user -I file: import a legacy server's UIDLs and report. */
static int altpop_main_import(const char *username, const char *path)
{
	struct mail_storage_service_input input;
	struct mail_user *mail_user;
	string_t *report = t_str_new(256);
	const char *error;
	int ret;

	if (username == NULL)
		i_fatal("-I needs -u <user>");
	/* open it while still privileged: the mail user may not read it */
	int fd = open(path, O_RDONLY);
	if (fd == -1)
		i_fatal("Can't open the legacy UIDL file: open(%s) failed: %m",
			path);
	altpop_mail_glue_input_init(&input);
	input.username = username;
	if (altpop_mail_glue_user_lookup(&input, &mail_user, NULL,
					 &error) < 0)
		i_fatal("User lookup failed for %s: %s", username, error);
	ret = altpop_uidl_import(mail_user, fd, path, report, &error);
	i_close_fd(&fd);
	altpop_mail_glue_user_free(&mail_user, NULL);
	if (ret < 0) {
		i_error("UIDL import from %s failed: %s", path, error);
		return FATAL_DEFAULT;
	}
	printf("%s", str_c(report));
	return 0;
}

static void altpop_main_stdio_run(const char *username)
{
	struct mail_storage_service_input input;
	struct altpop_client *client;
	const char *value, *error, *input_base64;
	buffer_t *input_buf = NULL;

	altpop_mail_glue_input_init(&input);
	input.username = username != NULL ? username : getenv("USER");
	if (input.username == NULL)
		i_fatal("USER environment missing (or use -u user)");
	if ((value = getenv("IP")) != NULL)
		(void)net_addr2ip(value, &input.remote_ip);
	if ((value = getenv("LOCAL_IP")) != NULL)
		(void)net_addr2ip(value, &input.local_ip);
	input_base64 = getenv("CLIENT_INPUT");
	if (input_base64 != NULL)
		input_buf = t_base64_decode_str(input_base64);

	if (altpop_client_create_from_input(&input, STDIN_FILENO,
					    STDOUT_FILENO, &client,
					    &error) < 0)
		i_fatal("%s", error);
	altpop_client_start(client, input_buf == NULL ? NULL : input_buf->data,
			    input_buf == NULL ? 0 : input_buf->used);
}

static void
altpop_login_finished(const struct mail_storage_service_input *input,
		      int fd, const unsigned char *data, size_t size)
{
	struct altpop_client *client;
	struct login_handoff handoff;
	const char *error, *version;
	size_t consumed;
	int ret;

	if (altpop_client_create_from_input(input, fd, fd, &client,
					    &error) < 0) {
		i_error("%s", error);
		i_close_fd(&fd);
		master_service_client_connection_destroyed(master_service);
		return;
	}
	/* what altpop-login says about the login (include/login-handoff.h),
	   then the commands the client pipelined behind it */
	ret = login_handoff_parse(data, size, &handoff, &consumed, &version);
	if (ret <= 0) {
		if (ret == -2) {
			i_error("Login handoff of version %s from the login "
				"process, this altpop process knows only "
				LOGIN_HANDOFF_MAGIC ": altpop-login and altpop "
				"are of different altpop versions; install "
				"both from the same build and restart Dovecot",
				version);
		} else if (ret < 0) {
			i_error("Invalid login handoff from the login process: "
				"is altpop-login of the same version?");
		} else {
			/* not from altpop-login: e.g. another login service
			   pointed at the altpop service's login socket */
			i_error("Login without the altpop login handoff ("
				LOGIN_HANDOFF_MAGIC "): only altpop-login may "
				"hand sessions to the altpop service; check "
				"that no other login service uses the "
				"login/altpop socket and that altpop-login and "
				"altpop are of the same altpop version");
		}
		altpop_client_send_line(client, "-ERR [SYS/TEMP] "
					MAIL_ERRSTR_CRITICAL_MSG);
		altpop_client_destroy(client, ret == -2 ?
				      "Login handoff of another version" :
				      ret < 0 ? "Invalid login handoff" :
				      "Missing login handoff");
		return;
	}
	if (handoff.sdps)
		altpop_client_set_sdps(client, handoff.sdps_user,
				       handoff.sdps_host);
	altpop_client_set_login_capa(client, handoff.capa_user,
				     handoff.capa_sasl_mechs);
	client->lang = handoff.lang;
	altpop_client_start(client, data + consumed, size - consumed);
}

static void altpop_client_connected(struct master_service_connection *conn)
{
	/* only reached when started by the master */
	i_assert(!ALTPOP_IS_STANDALONE());

	master_service_client_connection_accept(conn);
	altpop_mail_glue_login_add(conn->fd);
}

int main(int argc, char *argv[])
{
	struct altpop_mail_glue_settings glue_set;
	const char *username = NULL, *auth_socket_path = "auth-master";
	const char *import_path = NULL;
	const char *error;
	bool standalone = ALTPOP_IS_STANDALONE();
	int c;

	i_zero(&glue_set);
	glue_set.standalone = standalone;
	glue_set.login_callback = altpop_login_finished;

	if (standalone && getuid() == 0 &&
	    net_getpeername(1, NULL, NULL) == 0) {
		printf("-ERR [SYS/PERM] altpop must not be started from "
		       "inetd: use altpop-login.\n");
		return 1;
	}

	altpop_mail_glue_service_init(standalone, &argc, &argv,
				      "a:t:u:I:");
	while ((c = master_getopt(master_service)) > 0) {
		switch (c) {
		case 'a':
			auth_socket_path = optarg;
			break;
		case 't':
			if (str_to_uint(optarg,
					&glue_set.postlogin_timeout_secs) < 0 ||
			    glue_set.postlogin_timeout_secs == 0)
				i_fatal("Invalid -t parameter: %s", optarg);
			break;
		case 'u':
			glue_set.userdb_lookup = TRUE;
			username = optarg;
			break;
		case 'I':
			if (!standalone)
				i_fatal("-I is for running altpop by hand");
			import_path = optarg;
			break;
		default:
			return FATAL_DEFAULT;
		}
	}
	if (t_abspath(auth_socket_path, &glue_set.auth_socket_path,
		      &error) < 0)
		i_fatal("t_abspath(%s) failed: %s", auth_socket_path, error);
	if (argv[optind] != NULL) {
		if (t_abspath(argv[optind], &glue_set.postlogin_socket_path,
			      &error) < 0)
			i_fatal("t_abspath(%s) failed: %s", argv[optind], error);
	}

	master_service_set_die_callback(master_service, altpop_die);
	altpop_mail_glue_init(&glue_set);
	/* the socket paths were on the data stack, which
	   master_service_init_finish() freed */
	i_zero(&glue_set);

	if (import_path != NULL) {
		int ret;
		T_BEGIN {
			ret = altpop_main_import(username, import_path);
		} T_END;
		altpop_mail_glue_deinit();
		return ret;
	}

	/* lets us notice a client destroyed while handling its first input */
	io_loop_set_running(current_ioloop);
	if (standalone) T_BEGIN {
		altpop_main_stdio_run(username);
	} T_END;

	if (io_loop_is_running(current_ioloop))
		master_service_run(master_service, altpop_client_connected);
	altpop_clients_destroy_all();

	altpop_mail_glue_deinit();
	return 0;
}
