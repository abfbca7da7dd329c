/* SPDX-License-Identifier: LGPL-2.1-only */
/* Pre-auth authentication commands: CAPA, USER/PASS, APOP, AUTH and the
   replies to authentication results. */

#include "login-common.h"
#include "array.h"
#include "base64.h"
#include "buffer.h"
#include "hex-binary.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "randgen.h"
#include "safe-memset.h"
#include "hostpid.h"
#include "str.h"
#include "pop3-capa.h"
#include "expire-policy.h"
#include "altpop-login.h"

/* An APOP digest is MD5 in hex. */
#define APOP_DIGEST_HEX_LEN 32

static const char *const *altpop_sasl_mech_names(struct client *client)
{
	const struct auth_mech_desc *mechs;
	ARRAY_TYPE(const_string) names;
	unsigned int i, count;

	mechs = altpop_sasl_get_advertised_mechs(client, &count);
	t_array_init(&names, count + 1);
	for (i = 0; i < count; i++) {
		const char *name = mechs[i].name;
		array_push_back(&names, &name);
	}
	array_append_zero(&names);
	return array_front(&names);
}

void altpop_login_capa(struct client *client, enum pop3_capa_flags *flags_r,
		       const char *const **sasl_mechs_r)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	*flags_r = 0;
	if (client_is_tls_enabled(client) && !altpop_client_tls(client))
		*flags_r |= POP3_CAPA_FLAG_STLS;
	if (aclient->ticket_login) {
		/* the Kerberos exchange is the authentication: USER/PASS
		   only name the user, no SASL */
		*flags_r |= POP3_CAPA_FLAG_USER;
		*sasl_mechs_r = NULL;
		return;
	}
	if (altpop_login_cleartext_allowed(client->set) ||
	    altpop_client_secured(client))
		*flags_r |= POP3_CAPA_FLAG_USER;
	*sasl_mechs_r = altpop_sasl_mech_names(client);
}

int altpop_cmd_capa(struct altpop_login_client *aclient,
		    const char *args ATTR_UNUSED)
{
	struct client *client = &aclient->common;
	enum pop3_capa_flags flags;
	const char *const *sasl_mechs;
	string_t *str = t_str_new(256);

	/* the site's values; the post-login CAPA has the user's */
	const struct pop3_capa_policy policy = {
		.login_delay_secs = aclient->set->altpop_login_delay,
		.expire = expire_policy_capa(aclient->set->parsed_expire_days),
		.per_user = aclient->set->altpop_limits_per_user,
		.utf8 = aclient->set->altpop_utf8,
		.lang = aclient->set->altpop_lang,
		.reply_lang = aclient->lang,
	};

	altpop_login_capa(client, &flags, &sasl_mechs);
	pop3_capa_append_reply(str, flags, sasl_mechs, &policy);
	client_send_raw(client, str_c(str));
	return 1;
}

int altpop_cmd_user(struct altpop_login_client *aclient, const char *args)
{
	struct client *client = &aclient->common;

	if (!client_check_plaintext_auth(client, FALSE)) {
		/* replied already; remember the name for the log line */
		if (client->virtual_user == NULL)
			client->virtual_user = i_strdup(args);
		return 1;
	}
	if (args[0] == '\0') {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   altpop_login_text(aclient,
				POP3_MSG_USER_NEEDS_NAME));
		return 1;
	}
	i_free_and_null(aclient->last_user);
	if ((args = altpop_utf8_prep(aclient, args, FALSE)) == NULL)
		return client->destroyed ? 0 : 1;
	const char *auth_user = altpop_sdps_map_user(aclient, args);
	if (auth_user == NULL)
		return 1;
	aclient->last_user = i_strdup(auth_user);
	altpop_login_reply(client, ALTPOP_REPLY_OK,
			   altpop_login_text(aclient, POP3_MSG_SEND_PASSWORD));
	return 1;
}

int altpop_cmd_pass(struct altpop_login_client *aclient, const char *args)
{
	struct client *client = &aclient->common;
	string_t *plain, *base64;

	if (aclient->last_user == NULL) {
		/* clients may show only the PASS error, so say why here too */
		if (!client_check_plaintext_auth(client, TRUE))
			return 1;
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   altpop_login_text(aclient,
				POP3_MSG_NO_USERNAME));
		return 1;
	}

	if ((args = altpop_utf8_prep(aclient, args, TRUE)) == NULL) {
		i_free_and_null(aclient->last_user);
		return client->destroyed ? 0 : 1;
	}
	/* SASL PLAIN: authzid NUL authcid NUL password */
	plain = t_str_new(128);
	str_append_c(plain, '\0');
	str_append(plain, aclient->last_user);
	str_append_c(plain, '\0');
	str_append(plain, args);
	i_free_and_null(aclient->last_user);

	base64 = t_str_new(MAX_BASE64_ENCODED_SIZE(str_len(plain)) + 1);
	base64_encode(str_data(plain), str_len(plain), base64);
	safe_memset(str_c_modifiable(plain), 0, str_len(plain));
	(void)client_auth_begin(client, "PLAIN", str_c(base64));
	return 1;
}

char *altpop_apop_challenge_create(struct altpop_login_client *aclient)
{
	unsigned char rnd[ALTPOP_APOP_RANDOM_BYTES];

	if (altpop_sasl_find_available_mech(&aclient->common, "APOP") == NULL)
		return NULL;

	auth_client_get_connect_id(auth_client, &aclient->apop_server_pid,
				   &aclient->apop_connect_uid);
	random_fill(rnd, sizeof(rnd));
	/* hex, not base64: some clients (mpop) refuse a timestamp with '=' */
	return i_strdup_printf("<%x.%x.%lx.%s@%s>", aclient->apop_server_pid,
			       aclient->apop_connect_uid,
			       (unsigned long)ioloop_time,
			       binary_to_hex(rnd, sizeof(rnd)), my_hostname);
}

int altpop_cmd_apop(struct altpop_login_client *aclient, const char *args)
{
	struct client *client = &aclient->common;
	const char *sp;
	buffer_t *data;
	string_t *base64;
	unsigned int server_pid, connect_uid;

	if (aclient->apop_challenge == NULL) {
		e_info(client->event, "APOP refused: APOP is not in "
		       "auth_mechanisms");
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   altpop_login_text(aclient,
				POP3_MSG_APOP_NOT_ENABLED));
		return 1;
	}
	sp = strrchr(args, ' ');
	if (sp == NULL || sp == args || strlen(sp + 1) != APOP_DIGEST_HEX_LEN) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   altpop_login_text(aclient,
				POP3_MSG_APOP_USAGE));
		return 1;
	}
	altpop_sdps_reset(aclient);
	if (altpop_sdps_enabled(aclient) &&
	    strpbrk(t_strdup_until(args, sp),
		    aclient->set->altpop_sdps_separators) != NULL) {
		altpop_login_reply(client, ALTPOP_REPLY_AUTH_ERROR,
			altpop_login_text(aclient,
				POP3_MSG_APOP_SDPS));
		return 1;
	}

	/* Dovecot's APOP mechanism: challenge NUL user NUL digest */
	data = t_buffer_create(128);
	buffer_append(data, aclient->apop_challenge,
		      strlen(aclient->apop_challenge) + 1);
	buffer_append(data, args, sp - args);
	buffer_append_c(data, '\0');
	if (hex_to_binary(sp + 1, data) < 0) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   altpop_login_text(aclient,
				POP3_MSG_APOP_INVALID_DIGEST));
		return 1;
	}

	auth_client_get_connect_id(auth_client, &server_pid, &connect_uid);
	if (aclient->apop_server_pid != server_pid ||
	    aclient->apop_connect_uid != connect_uid) {
		/* the timestamp was issued by an auth connection that is
		   gone: it can no longer be verified */
		altpop_login_reply(client, ALTPOP_REPLY_TEMPFAIL,
				   altpop_login_text(aclient,
				POP3_MSG_AUTH_SERVER_RESTARTED));
		client_destroy(client, "Reconnected to auth server, "
			       "can't do APOP");
		return 1;
	}
	base64 = t_str_new(MAX_BASE64_ENCODED_SIZE(data->used) + 1);
	base64_encode(data->data, data->used, base64);
	(void)client_auth_begin_private(client, "APOP", str_c(base64));
	return 1;
}

int altpop_cmd_auth(struct altpop_login_client *aclient)
{
	struct client *client = &aclient->common;
	const unsigned char *data;
	size_t i, size;
	int ret;

	/* AUTH <mechanism> [<initial response>] (RFC 5034); SASL names are
	   never SDPS names */
	if (!aclient->auth_mech_name_parsed) {
		altpop_sdps_reset(aclient);
		data = i_stream_get_data(client->input, &size);
		for (i = 0; i < size; i++) {
			if (data[i] == ' ' || data[i] == '\r' ||
			    data[i] == '\n')
				break;
		}
		if (i == size)
			return 0;
		if (i == 0) {
			/* bare AUTH: list the mechanisms (old-style probe) */
			const char *const *names = altpop_sasl_mech_names(client);
			string_t *str = t_str_new(128);

			str_append(str, "+OK\r\n");
			for (; *names != NULL; names++)
				str_printfa(str, "%s\r\n", *names);
			str_append(str, ".\r\n");
			client_send_raw(client, str_c(str));
			(void)i_stream_read_next_line(client->input);
			return 1;
		}
		i_free(client->auth_mech_name);
		client->auth_mech_name = i_strndup(data, i);
		aclient->auth_mech_name_parsed = TRUE;
		i_stream_skip(client->input, data[i] == ' ' ? i + 1 : i);
	}

	if ((ret = client_auth_read_line(client)) <= 0)
		return ret;

	/* the initial response goes to the mechanism as sent (UTF8 or
	   not: login-utf8.c says why) */
	const char *ir = NULL;
	if (client->auth_response->used > 0) {
		ir = t_strdup(str_c(client->auth_response));
		safe_memset(str_c_modifiable(client->auth_response), 0,
			    str_len(client->auth_response));
		str_truncate(client->auth_response, 0);
	}
	aclient->auth_mech_name_parsed = FALSE;
	/* login-common runs the rest of the exchange */
	i_free_and_null(aclient->current_cmd);
	return client_auth_begin(client, t_strdup(client->auth_mech_name), ir);
}

void altpop_login_auth_result(struct client *client,
			      enum client_auth_result result,
			      const struct client_auth_reply *reply ATTR_UNUSED,
			      const char *text)
{
	if (altpop_auth_result_limit_reached(result, text)) {
		altpop_login_reply(client, ALTPOP_REPLY_IN_USE, text);
		return;
	}
	switch (result) {
	case CLIENT_AUTH_RESULT_SUCCESS:
		/* the post-login process sends "+OK Logged in." */
		altpop_sdps_login_event(
			container_of(client, struct altpop_login_client,
				     common));
		break;
	case CLIENT_AUTH_RESULT_TEMPFAIL:
		altpop_login_reply(client, ALTPOP_REPLY_TEMPFAIL, text);
		break;
	case CLIENT_AUTH_RESULT_AUTHFAILED:
	case CLIENT_AUTH_RESULT_AUTHFAILED_REASON:
	case CLIENT_AUTH_RESULT_AUTHZFAILED:
	case CLIENT_AUTH_RESULT_PASS_EXPIRED:
	case CLIENT_AUTH_RESULT_SSL_REQUIRED:
	case CLIENT_AUTH_RESULT_LOGIN_DISABLED:
	case CLIENT_AUTH_RESULT_MECH_INVALID:
	case CLIENT_AUTH_RESULT_MECH_SSL_REQUIRED:
	case CLIENT_AUTH_RESULT_INVALID_BASE64:
	case CLIENT_AUTH_RESULT_ANONYMOUS_DENIED:
		altpop_login_reply(client, ALTPOP_REPLY_AUTH_ERROR, text);
		break;
	default:
		altpop_login_reply(client, ALTPOP_REPLY_ERROR, text);
		break;
	}
}
