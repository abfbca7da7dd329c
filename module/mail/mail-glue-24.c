/* SPDX-License-Identifier: LGPL-2.1-only */
/* Dovecot 2.4 side of mail-glue.h: login-server, settings_get(),
   %{name} logout variables, anvil sessions with a connection GUID and
   doveadm kick through the admin socket. */

#include "lib.h"
#include "str.h"
#include "guid.h"
#include "istream.h"
#include "var-expand.h"
#include "restrict-access.h"
#include "settings.h"
#include "master-service.h"
#include "master-service-settings.h"
#include "master-admin-client.h"
#include "master-interface.h"
#include "login-server.h"
#include "mail-user.h"
#include "mail-storage-service.h"
#include "altpop-client.h"
#include "mail-glue.h"

#include <unistd.h>

#define ALTPOP_SERVICE_NAME "altpop"

/* The anvil registration of a session: anvil knows it by this GUID, and
   so does a kick through the admin socket. */
struct altpop_mail_anvil {
	guid_128_t conn_guid;
};

static struct mail_storage_service_ctx *storage_service = NULL;
static struct login_server *login_server = NULL;
static altpop_mail_login_callback_t *login_callback;

void altpop_mail_glue_service_init(bool standalone, int *argc, char **argv[],
				   const char *getopt_str)
{
	enum master_service_flags flags = 0;

	if (standalone) {
		flags |= MASTER_SERVICE_FLAG_STANDALONE |
			MASTER_SERVICE_FLAG_STD_CLIENT;
	}
	master_service = master_service_init(ALTPOP_SERVICE_NAME, flags,
					     argc, argv, getopt_str);
}

static void
altpop_login_server_callback(const struct login_server_request *request,
			     const char *username,
			     const char *const *extra_fields)
{
	struct mail_storage_service_input input;

	altpop_mail_glue_input_init(&input);
	input.local_ip = request->auth_req.local_ip;
	input.remote_ip = request->auth_req.remote_ip;
	input.local_port = request->auth_req.local_port;
	input.remote_port = request->auth_req.remote_port;
	input.username = username;
	input.userdb_fields = extra_fields;
	input.session_id = request->session_id;
	input.end_client_tls_secured =
		(request->auth_req.flags &
		 LOGIN_REQUEST_FLAG_END_CLIENT_SECURED_TLS) != 0;

	login_callback(&input, request->fd, request->data,
		       request->auth_req.data_size);
}

static void
altpop_login_server_failed(const struct login_server_request *request,
			   const char *errormsg)
{
	const char *reply =
		t_strdup_printf("-ERR [SYS/TEMP] %s\r\n", errormsg);

	if (write(request->fd, reply, strlen(reply)) < 0) {
		/* the client is gone already */
	}
}

/* doveadm kick (via anvil and the admin socket): a user's sessions, or
   the one with conn_guid. */
static unsigned int
altpop_admin_kick_user(const char *username, const guid_128_t conn_guid)
{
	struct altpop_client *client, *next;
	unsigned int count = 0;

	for (client = altpop_clients; client != NULL; client = next) {
		next = client->next;
		if (client->destroyed ||
		    strcmp(client->user->username, username) != 0)
			continue;
		if (!guid_128_is_empty(conn_guid) &&
		    (client->anvil == NULL ||
		     guid_128_cmp(client->anvil->conn_guid, conn_guid) != 0))
			continue;
		altpop_client_kick(client, MASTER_SERVICE_USER_KICKED_MSG);
		count++;
	}
	return count;
}

static const struct master_admin_client_callback altpop_admin_callbacks = {
	.cmd_kick_user = altpop_admin_kick_user,
};

void altpop_mail_glue_init(const struct altpop_mail_glue_settings *set)
{
	enum mail_storage_service_flags storage_flags = 0;
	const char *error;

	if (master_service_settings_read_simple(master_service, &error) < 0)
		i_fatal("%s", error);

	if (!set->standalone) {
		struct login_server_settings login_set;

		i_zero(&login_set);
		login_set.auth_socket_path = set->auth_socket_path;
		login_set.postlogin_socket_path = set->postlogin_socket_path;
		login_set.postlogin_timeout_secs =
			set->postlogin_timeout_secs != 0 ?
			set->postlogin_timeout_secs :
			LOGIN_SERVER_POSTLOGIN_TIMEOUT_DEFAULT;
		login_set.callback = altpop_login_server_callback;
		login_set.failure_callback = altpop_login_server_failed;
		login_set.update_proctitle =
			getenv(MASTER_VERBOSE_PROCTITLE_ENV) != NULL &&
			master_service_get_client_limit(master_service) == 1;
		login_callback = set->login_callback;
		login_server = login_server_init(master_service, &login_set);
	}
	master_admin_clients_init(&altpop_admin_callbacks);

	if (set->userdb_lookup)
		storage_flags |= MAIL_STORAGE_SERVICE_FLAG_USERDB_LOOKUP;
	storage_service = mail_storage_service_init(master_service,
						    storage_flags);
	master_service_init_finish(master_service);
}

void altpop_mail_glue_login_add(int fd)
{
	i_assert(login_server != NULL);
	login_server_add(login_server, fd);
}

void altpop_mail_glue_deinit(void)
{
	if (login_server != NULL)
		login_server_deinit(&login_server);
	mail_storage_service_deinit(&storage_service);
	master_service_deinit(&master_service);
}

void altpop_mail_glue_input_init(struct mail_storage_service_input *input)
{
	i_zero(input);
	input->service = ALTPOP_SERVICE_NAME;
}

int altpop_mail_glue_user_lookup(const struct mail_storage_service_input *input,
				 struct mail_user **user_r,
				 const struct altpop_settings **set_r,
				 const char **error_r)
{
	struct mail_user *user;
	const struct altpop_settings *set;
	const char *error;
	int ret;

	ret = mail_storage_service_lookup_next(storage_service, input,
					       &user, &error);
	if (ret <= 0) {
		*error_r = ret < 0 ? error : t_strdup_printf(
			"User %s not found", input->username);
		return -1;
	}
	restrict_access_allow_coredumps(TRUE);

	if (set_r != NULL) {
		/* altpop_* settings with protocol altpop { } and the user's
		   userdb overrides applied, %{variables} expanded */
		if (settings_get(user->event, &altpop_setting_parser_info, 0,
				 &set, &error) < 0) {
			*error_r = t_strdup_printf(
				"Failed to get settings: %s", error);
			mail_user_deinit(&user);
			return -1;
		}
		*set_r = set;
	}
	*user_r = user;
	return 0;
}

void altpop_mail_glue_user_free(struct mail_user **user,
				const struct altpop_settings **set)
{
	/* the mail user holds the only reference to its service user */
	mail_user_deinit(user);
	if (set != NULL)
		settings_free(*set);
}

int altpop_mail_glue_logout_expand(string_t *dest, const char *format,
				   const struct altpop_logout_stats *stats,
				   struct mail_user *user, struct event *event,
				   const char **error_r)
{
	/* the names stock 2.4 pop3_logout_format has */
	const struct var_expand_table logout_tab[] = {
		{ .key = "top_count", .value = dec2str(stats->top_count) },
		{ .key = "top_bytes", .value = dec2str(stats->top_bytes) },
		{ .key = "retr_count", .value = dec2str(stats->retr_count) },
		{ .key = "retr_bytes", .value = dec2str(stats->retr_bytes) },
		{ .key = "deleted_count",
		  .value = dec2str(stats->deleted_count) },
		{ .key = "deleted_bytes",
		  .value = dec2str(stats->deleted_bytes) },
		{ .key = "message_count",
		  .value = dec2str(stats->message_count) },
		{ .key = "message_bytes",
		  .value = dec2str(stats->message_bytes) },
		{ .key = "input", .value = dec2str(stats->input) },
		{ .key = "output", .value = dec2str(stats->output) },
		VAR_EXPAND_TABLE_END
	};
	const struct var_expand_params *user_params =
		mail_user_var_expand_params(user);
	const struct var_expand_table *const tables[] = {
		user_params->table, logout_tab, NULL
	};
	const struct var_expand_params params = {
		.tables_arr = tables,
		.providers = user_params->providers,
		.context = user_params->context,
		.event = event,
	};

	return var_expand(dest, format, &params, error_r);
}

void altpop_mail_glue_anvil_connect(struct altpop_client *client)
{
	struct master_service_anvil_session session;
	struct altpop_mail_anvil *anvil;

	/* the service name in the session is the master service's:
	   "altpop", which mail_max_userip_connections counts */
	mail_user_get_anvil_session(client->user, &session);
	anvil = p_new(client->pool, struct altpop_mail_anvil, 1);
	if (master_service_anvil_connect(master_service, &session, TRUE,
					 anvil->conn_guid))
		client->anvil = anvil;
}

void altpop_mail_glue_anvil_disconnect(struct altpop_client *client)
{
	struct master_service_anvil_session session;

	if (client->anvil == NULL)
		return;
	mail_user_get_anvil_session(client->user, &session);
	master_service_anvil_disconnect(master_service, &session,
					client->anvil->conn_guid);
	client->anvil = NULL;
}

const char *altpop_mail_glue_stop_reason(void)
{
	return master_service_is_user_kicked(master_service) ?
		MASTER_SERVICE_USER_KICKED_MSG :
		MASTER_SERVICE_SHUTTING_DOWN_MSG;
}
