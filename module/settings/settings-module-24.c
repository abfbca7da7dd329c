/* SPDX-License-Identifier: LGPL-2.1-only */
/* The settings module for Dovecot 2.4: tells the config process about
   altpop's settings and its two services with their default listeners.
   Loaded from $moduledir/settings as "altpop_settings"; the config process
   looks up altpop_settings_set_infos and altpop_settings_services_array.
   Every global here is altpop_ prefixed (the config executable's own
   symbols win over a module's). */

#include "lib.h"
#include "array.h"
#include "settings-parser.h"
#include "service-settings.h"
#include "altpop-settings.h"
#include "altpop-login-settings.h"
#include "cyrussasl-settings-24.h"

extern const char *altpop_settings_version;
extern const struct setting_parser_info *altpop_settings_set_infos[];
extern const struct config_service altpop_settings_services_array[];

const char *altpop_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *altpop_settings_set_infos[] = {
	&altpop_login_setting_parser_info,
	&altpop_setting_parser_info,
	/* the cyrussasl passdb's (known even where it is not built) */
	&altpop_cyrussasl_setting_parser_info,
	NULL
};

/* altpop-login and altpop-kpop-login: login processes of protocol
   altpop, one process per connection as stock pop3-login; listeners come
   from the defaults below (or the admin) */
#define ALTPOP_LOGIN_SERVICE(service_name) { \
	.name = service_name, \
	.protocol = "altpop", \
	.type = "login", \
	.executable = service_name, \
	.user = "$SET:default_login_user", \
	.group = "", \
	.privileged_group = "", \
	.extra_groups = ARRAY_INIT, \
	.chroot = "login", \
	.drop_priv_before_exec = FALSE, \
	.restart_request_count = 1, \
	.unix_listeners = ARRAY_INIT, \
	.fifo_listeners = ARRAY_INIT, \
	.inet_listeners = ARRAY_INIT, \
}

static const struct service_settings altpop_login_service_settings =
	ALTPOP_LOGIN_SERVICE("altpop-login");

/* Default listeners; the ports are the ones in DESIGN: pop3 110,
   pop3s 995 (TLS from the first byte). altpop-kpop-login has no default
   listener: KPOP is useless until kpop is in auth_mechanisms, so the admin
   adds "inet_listener kpop { port = 1109 }" to it together with the
   mechanism (doc/kpop.md). */
static const struct setting_keyvalue altpop_login_service_defaults[] = {
	{ "inet_listener", "pop3 pop3s" },

	{ "inet_listener/pop3/name", "pop3" },
	{ "inet_listener/pop3/port", "110" },

	{ "inet_listener/pop3s/name", "pop3s" },
	{ "inet_listener/pop3s/port", "995" },
	{ "inet_listener/pop3s/ssl", "yes" },

	{ NULL, NULL }
};

/* KPOP: a login service of its own, handing off to login/altpop like
   altpop-login; no listener until the admin adds one */
static const struct service_settings altpop_kpop_login_service_settings =
	ALTPOP_LOGIN_SERVICE("altpop-kpop-login");

static const struct service_settings altpop_service_settings = {
	.name = "altpop",
	.protocol = "altpop",
	.type = "",
	.executable = "altpop",
	.user = "",
	.group = "",
	.privileged_group = "",
	.extra_groups = ARRAY_INIT,
	.chroot = "",
	.drop_priv_before_exec = FALSE,
	.process_limit = 1024,
	.client_limit = 1,
	.restart_request_count = 1,
	.unix_listeners = ARRAY_INIT,
	.fifo_listeners = ARRAY_INIT,
	.inet_listeners = ARRAY_INIT,
};

/* altpop-login hands logged-in clients to login/altpop; srv.altpop/<pid>
   is the admin socket doveadm uses (kick, who) */
static const struct setting_keyvalue altpop_service_defaults[] = {
	{ "unix_listener", "login\\saltpop srv.altpop\\s%{pid}" },
	{ "unix_listener/login\\saltpop/path", "login/altpop" },
	{ "unix_listener/login\\saltpop/mode", "0666" },

	{ "unix_listener/srv.altpop\\s%{pid}/path", "srv.altpop/%{pid}" },
	{ "unix_listener/srv.altpop\\s%{pid}/type", "admin" },
	{ "unix_listener/srv.altpop\\s%{pid}/mode", "0600" },

	{ "service_extra_groups", "$SET:default_internal_group" },

	{ NULL, NULL }
};

const struct config_service altpop_settings_services_array[] = {
	{ &altpop_login_service_settings, altpop_login_service_defaults },
	{ &altpop_kpop_login_service_settings, NULL },
	{ &altpop_service_settings, altpop_service_defaults },
	{ NULL, NULL }
};
