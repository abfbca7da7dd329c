/* altpop: the post-login POP3 process. Takes over clients from
   altpop-login (or runs one session on stdin/stdout when started by hand
   with -u user for debugging). */

#include "lib.h"
#include "ioloop.h"
#include "buffer.h"
#include "base64.h"
#include "istream.h"
#include "ostream.h"
#include "path-util.h"
#include "str.h"
#include "process-title.h"
#include "restrict-access.h"
#include "settings-parser.h"
#include "master-service.h"
#include "master-login.h"
#include "master-interface.h"
#include "mail-error.h"
#include "mail-user.h"
#include "mail-namespace.h"
#include "mail-storage-service.h"
#include "login-handoff.h"
#include "uidl-import.h"
#include "altpop-client.h"

#include <stdio.h>
#include <unistd.h>
#include <fcntl.h>

#define ALTPOP_IS_STANDALONE() (getenv(MASTER_IS_PARENT_ENV) == NULL)
#define ALTPOP_LOOKUP_ERROR_REPLY \
	"-ERR [SYS/TEMP] "MAIL_ERRSTR_CRITICAL_MSG"\r\n"

static struct mail_storage_service_ctx *storage_service;
static struct master_login *master_login = NULL;

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
	struct mail_storage_service_user *user;
	struct mail_user *mail_user;
	struct altpop_settings *set;
	const char *error;

	if (mail_storage_service_lookup_next(storage_service, input, &user,
					     &mail_user, error_r) <= 0) {
		altpop_write_raw(fd_out, ALTPOP_LOOKUP_ERROR_REPLY);
		return -1;
	}
	restrict_access_allow_coredumps(TRUE);

	set = mail_storage_service_user_get_set(user)[1];
	if (settings_var_expand(&altpop_setting_parser_info, set,
				mail_user->pool,
				mail_user_var_expand_table(mail_user),
				&error) <= 0) {
		*error_r = t_strdup_printf("Failed to expand settings: %s",
					   error);
		altpop_write_raw(fd_out, ALTPOP_LOOKUP_ERROR_REPLY);
		mail_user_deinit(&mail_user);
		mail_storage_service_user_unref(&user);
		return -1;
	}
	*client_r = altpop_client_create(fd_in, fd_out, mail_user, user, set);
	return 0;
}

static void altpop_client_start(struct altpop_client *client,
				const unsigned char *input, size_t input_size)
{
	const char *error;

	/* RFC 1939: the maildrop lock is taken before the +OK that enters
	   the TRANSACTION state. */
	if (altpop_mailbox_open(client, &error) < 0) {
		e_error(client->event, "%s", error);
		altpop_client_destroy(client, error);
		return;
	}
	if (!ALTPOP_IS_STANDALONE())
		altpop_client_send_line(client, "+OK Logged in.");
	client->state = ALTPOP_STATE_TRANSACTION;
	altpop_client_add_input(client, input, input_size);
}

/* altpop -u user -I file: import a legacy server's UIDLs and report. */
static int altpop_main_import(const char *username, const char *path)
{
	struct mail_storage_service_input input;
	struct mail_storage_service_user *service_user;
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
	i_zero(&input);
	input.module = input.service = "altpop";
	input.username = username;
	if (mail_storage_service_lookup_next(storage_service, &input,
					     &service_user, &mail_user,
					     &error) <= 0)
		i_fatal("User lookup failed for %s: %s", username, error);
	ret = altpop_uidl_import(mail_user, fd, path, report, &error);
	i_close_fd(&fd);
	mail_user_deinit(&mail_user);
	mail_storage_service_user_unref(&service_user);
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

	i_zero(&input);
	input.module = input.service = "altpop";
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
altpop_login_client_connected(const struct master_login_client *login_client,
			      const char *username,
			      const char *const *extra_fields)
{
	struct mail_storage_service_input input;
	enum mail_auth_request_flags flags = login_client->auth_req.flags;
	struct altpop_client *client;
	const char *error;

	i_zero(&input);
	input.module = input.service = "altpop";
	input.local_ip = login_client->auth_req.local_ip;
	input.remote_ip = login_client->auth_req.remote_ip;
	input.local_port = login_client->auth_req.local_port;
	input.remote_port = login_client->auth_req.remote_port;
	input.username = username;
	input.userdb_fields = extra_fields;
	input.session_id = login_client->session_id;
	input.conn_secured =
		(flags & MAIL_AUTH_REQUEST_FLAG_CONN_SECURED) != 0;
	input.conn_ssl_secured =
		(flags & MAIL_AUTH_REQUEST_FLAG_CONN_SSL_SECURED) != 0;

	if (altpop_client_create_from_input(&input, login_client->fd,
					    login_client->fd, &client,
					    &error) < 0) {
		int fd = login_client->fd;

		i_error("%s", error);
		i_close_fd(&fd);
		master_service_client_connection_destroyed(master_service);
		return;
	}
	/* what altpop-login says about the login, then the commands the
	   client pipelined behind it */
	const unsigned char *data = login_client->data;
	size_t size = login_client->auth_req.data_size, consumed;
	struct login_handoff handoff;

	if (login_handoff_parse(data, size, &handoff, &consumed) < 0) {
		i_error("Invalid login handoff from the login process: "
			"is altpop-login of the same version?");
		altpop_client_send_line(client, "-ERR [SYS/TEMP] "
					MAIL_ERRSTR_CRITICAL_MSG);
		altpop_client_destroy(client, "Invalid login handoff");
		return;
	}
	if (handoff.sdps)
		altpop_client_set_sdps(client, handoff.sdps_user,
				       handoff.sdps_host);
	altpop_client_start(client, data + consumed, size - consumed);
}

static void
altpop_login_client_failed(const struct master_login_client *client,
			   const char *errormsg)
{
	altpop_write_raw(client->fd, t_strdup_printf(
		"-ERR [SYS/TEMP] %s\r\n", errormsg));
}

static void altpop_client_connected(struct master_service_connection *conn)
{
	/* only reached when started by the master */
	i_assert(master_login != NULL);

	master_service_client_connection_accept(conn);
	master_login_add(master_login, conn->fd);
}

int main(int argc, char *argv[])
{
	static const struct setting_parser_info *set_roots[] = {
		&altpop_setting_parser_info,
		NULL
	};
	struct master_login_settings login_set;
	enum master_service_flags service_flags = 0;
	enum mail_storage_service_flags storage_flags =
		MAIL_STORAGE_SERVICE_FLAG_NO_SSL_CA;
	const char *username = NULL, *auth_socket_path = "auth-master";
	const char *import_path = NULL;
	const char *error;
	int c;

	i_zero(&login_set);
	login_set.postlogin_timeout_secs = MASTER_POSTLOGIN_TIMEOUT_DEFAULT;

	if (ALTPOP_IS_STANDALONE() && getuid() == 0 &&
	    net_getpeername(1, NULL, NULL) == 0) {
		printf("-ERR [SYS/PERM] altpop must not be started from "
		       "inetd: use altpop-login.\n");
		return 1;
	}
	if (ALTPOP_IS_STANDALONE()) {
		service_flags |= MASTER_SERVICE_FLAG_STANDALONE |
			MASTER_SERVICE_FLAG_STD_CLIENT;
	} else {
		service_flags |= MASTER_SERVICE_FLAG_KEEP_CONFIG_OPEN;
	}

	master_service = master_service_init("altpop", service_flags,
					     &argc, &argv, "a:t:u:I:");
	while ((c = master_getopt(master_service)) > 0) {
		switch (c) {
		case 'a':
			auth_socket_path = optarg;
			break;
		case 't':
			if (str_to_uint(optarg,
					&login_set.postlogin_timeout_secs) < 0 ||
			    login_set.postlogin_timeout_secs == 0)
				i_fatal("Invalid -t parameter: %s", optarg);
			break;
		case 'u':
			storage_flags |= MAIL_STORAGE_SERVICE_FLAG_USERDB_LOOKUP;
			username = optarg;
			break;
		case 'I':
			if (!ALTPOP_IS_STANDALONE())
				i_fatal("-I is for running altpop by hand");
			import_path = optarg;
			break;
		default:
			return FATAL_DEFAULT;
		}
	}
	if (t_abspath(auth_socket_path, &login_set.auth_socket_path,
		      &error) < 0)
		i_fatal("t_abspath(%s) failed: %s", auth_socket_path, error);
	if (argv[optind] != NULL) {
		if (t_abspath(argv[optind], &login_set.postlogin_socket_path,
			      &error) < 0)
			i_fatal("t_abspath(%s) failed: %s", argv[optind], error);
	}
	login_set.callback = altpop_login_client_connected;
	login_set.failure_callback = altpop_login_client_failed;
	if (!ALTPOP_IS_STANDALONE())
		master_login = master_login_init(master_service, &login_set);

	master_service_set_die_callback(master_service, altpop_die);
	storage_service = mail_storage_service_init(master_service, set_roots,
						    storage_flags);
	master_service_init_finish(master_service);

	if (import_path != NULL) {
		int ret;
		T_BEGIN {
			ret = altpop_main_import(username, import_path);
		} T_END;
		mail_storage_service_deinit(&storage_service);
		master_service_deinit(&master_service);
		return ret;
	}

	/* lets us notice a client destroyed while handling its first input */
	io_loop_set_running(current_ioloop);
	if (ALTPOP_IS_STANDALONE()) T_BEGIN {
		altpop_main_stdio_run(username);
	} T_END;

	if (io_loop_is_running(current_ioloop))
		master_service_run(master_service, altpop_client_connected);
	altpop_clients_destroy_all();

	if (master_login != NULL)
		master_login_deinit(&master_login);
	mail_storage_service_deinit(&storage_service);
	master_service_deinit(&master_service);
	return 0;
}
