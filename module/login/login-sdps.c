/* SPDX-License-Identifier: LGPL-2.1-only */
/* SDPS login names in altpop-login: "host", "user@host", "user+host".
   The name is mapped to the Dovecot user to authenticate
   (altpop_sdps_auth_user), and the per-user view travels to the altpop
   process in the login handoff (login-handoff-send.c). */

#include "login-common.h"
#include "str.h"
#include "str-sanitize.h"
#include "sdps-name.h"
#include "altpop-login.h"

/* how much of a refused name goes into the log */
#define SDPS_LOG_NAME_MAX 80

bool altpop_sdps_enabled(struct altpop_login_client *aclient)
{
	return altpop_login_listener_listed(&aclient->common,
					    aclient->set->altpop_sdps_listeners);
}

void altpop_sdps_reset(struct altpop_login_client *aclient)
{
	aclient->sdps_login = FALSE;
	i_free_and_null(aclient->sdps_user);
	i_free_and_null(aclient->sdps_host);
}

const char *altpop_sdps_map_user(struct altpop_login_client *aclient,
				 const char *name)
{
	struct client *client = &aclient->common;
	const char *template = aclient->set->altpop_sdps_auth_user;
	struct sdps_name sname;
	const char *auth_user, *error;

	altpop_sdps_reset(aclient);
	if (!altpop_sdps_enabled(aclient))
		return name;

	if (sdps_name_parse(name, aclient->set->altpop_sdps_separators,
			    &sname, &error) < 0) {
		/* never hand a mangled name to auth */
		e_info(client->event, "SDPS login name refused (%s): %s",
		       error, str_sanitize(name, SDPS_LOG_NAME_MAX));
		altpop_login_reply(client, ALTPOP_REPLY_AUTH_ERROR,
				   pop3_lang_printf(aclient->lang,
					POP3_MSG_SDPS_INVALID_NAME, error));
		return NULL;
	}
	if (sname.user[0] == '\0' && sdps_template_has_user(template)) {
		/* per-user accounts: a bare host name is no account */
		sname.user = "";
		altpop_login_reply(client, ALTPOP_REPLY_AUTH_ERROR,
				   altpop_login_text(aclient,
						     POP3_MSG_SDPS_NEED_USER));
		return NULL;
	}
	if (sdps_name_expand(template, &sname, &auth_user, &error) < 0) {
		e_error(client->event, "altpop_sdps_auth_user: %s", error);
		altpop_login_reply(client, ALTPOP_REPLY_TEMPFAIL,
				   altpop_login_text(aclient,
					POP3_MSG_SDPS_MISCONFIGURED));
		return NULL;
	}
	aclient->sdps_login = TRUE;
	/* a per-user account shows all its mail; a host account with a
	   user part shows only that user's view */
	aclient->sdps_user = i_strdup(sdps_template_has_user(template) ?
				      "" : sname.user);
	aclient->sdps_host = i_strdup(sname.host);
	return auth_user;
}

void altpop_sdps_login_event(struct altpop_login_client *aclient)
{
	struct client *client = &aclient->common;
	struct event *event;

	if (!aclient->sdps_login)
		return;
	/* the client's event: category altpop (the login binary's) */
	event = event_create(client->event);
	event_set_name(event, "altpop_sdps_login");
	event_add_str(event, "sdps_user", aclient->sdps_user);
	event_add_str(event, "sdps_host", aclient->sdps_host);
	e_debug(event, "SDPS login: host account %s, %s",
		str_sanitize(aclient->sdps_host, SDPS_LOG_NAME_MAX),
		aclient->sdps_user[0] == '\0' ? "whole maildrop" :
		t_strdup_printf("view of %s",
			str_sanitize(aclient->sdps_user, SDPS_LOG_NAME_MAX)));
	event_unref(&event);
}

bool altpop_sdps_is_view(struct altpop_login_client *aclient)
{
	return aclient->sdps_login && aclient->sdps_user != NULL &&
		aclient->sdps_user[0] != '\0';
}

const char *altpop_sdps_proxy_user(struct altpop_login_client *aclient,
				   const char *account)
{
	const char *seps = aclient->set->altpop_sdps_separators;

	if (!altpop_sdps_is_view(aclient) || seps[0] == '\0')
		return account;
	return t_strdup_printf("%s%c%s", aclient->sdps_user, seps[0], account);
}
