/* SPDX-License-Identifier: LGPL-2.1-only */
/* Dovecot 2.3 side of mail-glue.h: master-login, settings roots,
   one-letter logout variables, anvil's text protocol. */

#include "lib.h"
#include "str.h"
#include "hostpid.h"
#include "var-expand.h"
#include "restrict-access.h"
#include "settings-parser.h"
#include "master-service.h"
#include "master-login.h"
#include "master-interface.h"
#include "mail-user.h"
#include "mail-storage-service.h"
#include "altpop-client.h"
#include "mail-glue.h"

#include <unistd.h>

#define ALTPOP_SERVICE_NAME "altpop"

/* The anvil registration of a session: the ident it was sent with. */
struct altpop_mail_anvil {
	const char *ident;
};

static struct mail_storage_service_ctx *storage_service = NULL;
static struct master_login *master_login = NULL;
static altpop_mail_login_callback_t *login_callback;

void altpop_mail_glue_service_init(bool standalone, int *argc, char **argv[],
				   const char *getopt_str)
{
	enum master_service_flags flags;

	flags = standalone ?
		MASTER_SERVICE_FLAG_STANDALONE | MASTER_SERVICE_FLAG_STD_CLIENT :
		MASTER_SERVICE_FLAG_KEEP_CONFIG_OPEN;
	master_service = master_service_init(ALTPOP_SERVICE_NAME, flags,
					     argc, argv, getopt_str);
}

static void
altpop_master_login_callback(const struct master_login_client *login_client,
			     const char *username,
			     const char *const *extra_fields)
{
	enum mail_auth_request_flags flags = login_client->auth_req.flags;
	struct mail_storage_service_input input;

	altpop_mail_glue_input_init(&input);
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

	login_callback(&input, login_client->fd, login_client->data,
		       login_client->auth_req.data_size);
}

static void
altpop_master_login_failed(const struct master_login_client *login_client,
			   const char *errormsg)
{
	const char *reply =
		t_strdup_printf("-ERR [SYS/TEMP] %s\r\n", errormsg);

	if (write(login_client->fd, reply, strlen(reply)) < 0) {
		/* the client is gone already */
	}
}

void altpop_mail_glue_init(const struct altpop_mail_glue_settings *set)
{
	static const struct setting_parser_info *set_roots[] = {
		&altpop_setting_parser_info,
		NULL
	};
	enum mail_storage_service_flags storage_flags =
		MAIL_STORAGE_SERVICE_FLAG_NO_SSL_CA;

	if (!set->standalone) {
		struct master_login_settings login_set;

		i_zero(&login_set);
		login_set.auth_socket_path = set->auth_socket_path;
		login_set.postlogin_socket_path = set->postlogin_socket_path;
		login_set.postlogin_timeout_secs =
			set->postlogin_timeout_secs != 0 ?
			set->postlogin_timeout_secs :
			MASTER_POSTLOGIN_TIMEOUT_DEFAULT;
		login_set.callback = altpop_master_login_callback;
		login_set.failure_callback = altpop_master_login_failed;
		login_callback = set->login_callback;
		master_login = master_login_init(master_service, &login_set);
	}
	if (set->userdb_lookup)
		storage_flags |= MAIL_STORAGE_SERVICE_FLAG_USERDB_LOOKUP;
	storage_service = mail_storage_service_init(master_service, set_roots,
						    storage_flags);
	master_service_init_finish(master_service);
}

void altpop_mail_glue_login_add(int fd)
{
	i_assert(master_login != NULL);
	master_login_add(master_login, fd);
}

void altpop_mail_glue_deinit(void)
{
	if (master_login != NULL)
		master_login_deinit(&master_login);
	mail_storage_service_deinit(&storage_service);
	master_service_deinit(&master_service);
}

void altpop_mail_glue_input_init(struct mail_storage_service_input *input)
{
	i_zero(input);
	input->module = input->service = ALTPOP_SERVICE_NAME;
}

int altpop_mail_glue_user_lookup(const struct mail_storage_service_input *input,
				 struct mail_user **user_r,
				 const struct altpop_settings **set_r,
				 const char **error_r)
{
	struct mail_storage_service_user *service_user;
	struct mail_user *user;
	struct altpop_settings *set;
	const char *error;
	int ret;

	ret = mail_storage_service_lookup_next(storage_service, input,
					       &service_user, &user, &error);
	if (ret <= 0) {
		*error_r = ret < 0 ? error : t_strdup_printf(
			"User %s not found", input->username);
		return -1;
	}
	restrict_access_allow_coredumps(TRUE);

	if (set_r != NULL) {
		/* [0] is mail_user_settings, then our set_roots */
		set = mail_storage_service_user_get_set(service_user)[1];
		if (settings_var_expand(&altpop_setting_parser_info, set,
					user->pool,
					mail_user_var_expand_table(user),
					&error) <= 0) {
			*error_r = t_strdup_printf(
				"Failed to expand settings: %s", error);
			mail_user_deinit(&user);
			mail_storage_service_user_unref(&service_user);
			return -1;
		}
		*set_r = set;
	}
	*user_r = user;
	return 0;
}

void altpop_mail_glue_user_free(struct mail_user **_user,
				const struct altpop_settings **set)
{
	struct mail_user *user = *_user;
	struct mail_storage_service_user *service_user = user->_service_user;

	*_user = NULL;
	/* the settings belong to the service user */
	if (set != NULL)
		*set = NULL;
	mail_user_deinit(&user);
	mail_storage_service_user_unref(&service_user);
}

int altpop_mail_glue_logout_expand(string_t *dest, const char *format,
				   const struct altpop_logout_stats *stats,
				   struct mail_user *user,
				   struct event *event ATTR_UNUSED,
				   const char **error_r)
{
	/* the one-letter keys stock 2.3 pop3_logout_format has, and the
	   long names for %{...} */
	const struct var_expand_table logout_tab[] = {
		{ 't', dec2str(stats->top_count), "top_count" },
		{ 'p', dec2str(stats->top_bytes), "top_bytes" },
		{ 'r', dec2str(stats->retr_count), "retr_count" },
		{ 'b', dec2str(stats->retr_bytes), "retr_bytes" },
		{ 'd', dec2str(stats->deleted_count), "deleted_count" },
		{ '\0', dec2str(stats->deleted_bytes), "deleted_bytes" },
		{ 'm', dec2str(stats->message_count), "message_count" },
		{ 's', dec2str(stats->message_bytes), "message_bytes" },
		{ 'i', dec2str(stats->input), "input" },
		{ 'o', dec2str(stats->output), "output" },
		{ '\0', NULL, NULL }
	};
	const struct var_expand_table *tab =
		t_var_expand_merge_tables(logout_tab,
					  mail_user_var_expand_table(user));

	return var_expand_with_funcs(dest, format, tab,
				     mail_user_var_expand_func_table, user,
				     error_r) < 0 ? -1 : 0;
}

void altpop_mail_glue_anvil_connect(struct altpop_client *client)
{
	const char *ident = mail_user_get_anvil_userip_ident(client->user);

	/* anvil counts sessions by user and IP: nothing to count without
	   an IP (stdio sessions) */
	if (ident == NULL)
		return;
	client->anvil = p_new(client->pool, struct altpop_mail_anvil, 1);
	client->anvil->ident = p_strconcat(client->pool,
					   ALTPOP_SERVICE_NAME"/", ident, NULL);
	master_service_anvil_send(master_service, t_strconcat(
		"CONNECT\t", my_pid, "\t", client->anvil->ident, "\n", NULL));
}

void altpop_mail_glue_anvil_disconnect(struct altpop_client *client)
{
	if (client->anvil == NULL)
		return;
	master_service_anvil_send(master_service, t_strconcat(
		"DISCONNECT\t", my_pid, "\t", client->anvil->ident, "\n", NULL));
	client->anvil = NULL;
}

const char *altpop_mail_glue_stop_reason(void)
{
	return "Server shutting down";
}
