/* SPDX-License-Identifier: LGPL-2.1-only */
/* The settings module for Dovecot 2.3: tells Dovecot's config process
   about altpop's settings and about its two services with their default
   listeners.
   Loaded from $moduledir/settings; every global here is altpop_ prefixed
   because the config executable's own symbols win over a module's. */

#include "lib.h"
#include "array.h"
#include "buffer.h"
#include "settings-parser.h"
#include "service-settings.h"
#include "altpop-settings.h"
#include "altpop-login-settings.h"

/* Default ports of the altpop-login listeners. altpop-kpop-login has no
   default listener: KPOP is useless until kpop is in auth_mechanisms, so
   the admin adds "inet_listener kpop { port = 1109 }" to it together with
   the mechanism (doc/kpop.md). */
#define ALTPOP_PORT_POP3 110
#define ALTPOP_PORT_POP3S 995

extern const char *altpop_settings_version;
extern const struct setting_parser_info *altpop_settings_set_roots[];
extern struct service_settings *altpop_settings_service_settings_array[];

const char *altpop_settings_version = DOVECOT_ABI_VERSION;

const struct setting_parser_info *altpop_settings_set_roots[] = {
	&altpop_login_setting_parser_info,
	&altpop_kpop_login_setting_parser_info,
	&altpop_setting_parser_info,
	NULL
};

static struct inet_listener_settings altpop_login_inet_listeners_array[] = {
	{ .name = "pop3", .address = "", .port = ALTPOP_PORT_POP3 },
	{ .name = "pop3s", .address = "", .port = ALTPOP_PORT_POP3S,
	  .ssl = TRUE },
};
static struct inet_listener_settings *altpop_login_inet_listeners[] = {
	&altpop_login_inet_listeners_array[0],
	&altpop_login_inet_listeners_array[1],
};
static buffer_t altpop_login_inet_listeners_buf = {
	{ { altpop_login_inet_listeners, sizeof(altpop_login_inet_listeners) } }
};

/* altpop-login and altpop-kpop-login: login processes of protocol
   altpop, one process per connection as stock pop3-login */
#define ALTPOP_LOGIN_SERVICE(service_name, ...) { \
	.name = service_name, \
	.protocol = "altpop", \
	.type = "login", \
	.executable = service_name, \
	.user = "$default_login_user", \
	.group = "", \
	.privileged_group = "", \
	.extra_groups = "", \
	.chroot = "login", \
	.drop_priv_before_exec = FALSE, \
	.process_min_avail = 0, \
	.process_limit = 0, \
	.client_limit = 0, \
	.service_count = 1, \
	.idle_kill = 0, \
	.vsz_limit = UOFF_T_MAX, \
	.unix_listeners = ARRAY_INIT, \
	.fifo_listeners = ARRAY_INIT, \
	.inet_listeners = __VA_ARGS__, \
}

static struct service_settings altpop_login_service_settings =
	ALTPOP_LOGIN_SERVICE("altpop-login",
		{ { &altpop_login_inet_listeners_buf,
		    sizeof(altpop_login_inet_listeners[0]) } });

/* KPOP: a login service of its own, handing off to login/altpop like
   altpop-login; no listener until the admin adds one */
static struct service_settings altpop_kpop_login_service_settings =
	ALTPOP_LOGIN_SERVICE("altpop-kpop-login", ARRAY_INIT);

static struct file_listener_settings altpop_unix_listeners_array[] = {
	{ "login/altpop", 0666, "", "" }
};
static struct file_listener_settings *altpop_unix_listeners[] = {
	&altpop_unix_listeners_array[0]
};
static buffer_t altpop_unix_listeners_buf = {
	{ { altpop_unix_listeners, sizeof(altpop_unix_listeners) } }
};

static struct service_settings altpop_service_settings = {
	.name = "altpop",
	.protocol = "altpop",
	.type = "",
	.executable = "altpop",
	.user = "",
	.group = "",
	.privileged_group = "",
	.extra_groups = "$default_internal_group",
	.chroot = "",

	.drop_priv_before_exec = FALSE,

	.process_min_avail = 0,
	.process_limit = 1024,
	.client_limit = 1,
	.service_count = 1,
	.idle_kill = 0,
	.vsz_limit = UOFF_T_MAX,

	.unix_listeners = { { &altpop_unix_listeners_buf,
			      sizeof(altpop_unix_listeners[0]) } },
	.fifo_listeners = ARRAY_INIT,
	.inet_listeners = ARRAY_INIT
};

struct service_settings *altpop_settings_service_settings_array[] = {
	&altpop_login_service_settings,
	&altpop_kpop_login_service_settings,
	&altpop_service_settings,
	NULL
};
